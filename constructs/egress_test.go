package constructs

import (
	"reflect"
	"testing"
)

func TestPrometheusEgress(t *testing.T) {
	am := func(host string, port int) Endpoint { return Endpoint{host, port} }
	for name, c := range map[string]struct {
		port int
		ams  []Endpoint
		want []egressRule
	}{
		"nothing beyond HTTPS":             {0, nil, nil},
		"HTTPS alertmanagers need no rule": {0, []Endpoint{am("am.example.com", 443), am("10.1.2.3", 443)}, nil},
		"remote nodes":                     {9100, nil, []egressRule{{9100, "0.0.0.0/0", "node_exporter on nodes in other discovery regions"}}},
		"alertmanager by IP gets that address only": {0, []Endpoint{am("10.1.2.3", 9093), am("10.1.2.3", 9093)},
			[]egressRule{{9093, "10.1.2.3/32", "Alertmanager (alertmanagerUrls)"}}},
		"a name opens the port to every address, which covers the IPs": {0, []Endpoint{am("10.1.2.3", 9093), am("am.example.com", 9093), am("am.example.com", 80)},
			[]egressRule{{9093, "0.0.0.0/0", "Alertmanager (alertmanagerUrls)"}, {80, "0.0.0.0/0", "Alertmanager (alertmanagerUrls)"}}},
		"an IPv6 literal gets its /128": {0, []Endpoint{am("2001:db8::1", 9093)}, []egressRule{{9093, "2001:db8::1/128", "Alertmanager (alertmanagerUrls)"}}},
		"alertmanager on the node port": {9100, []Endpoint{am("10.1.2.3", 9100)}, []egressRule{{9100, "0.0.0.0/0", "node_exporter on nodes in other discovery regions"}}},
	} {
		if got := prometheusEgress(c.port, c.ams, nil, ""); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", name, got, c.want)
		}
	}
}
