package constructs

import (
	"reflect"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/config"
)

func TestPrometheusEgress(t *testing.T) {
	am := func(raw string) config.Alertmanager {
		a, err := config.ParseAlertmanagerURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for name, c := range map[string]struct {
		port int
		ams  []config.Alertmanager
		want []egressRule
	}{
		"nothing beyond HTTPS":             {0, nil, nil},
		"HTTPS alertmanagers need no rule": {0, []config.Alertmanager{am("https://am.example.com"), am("https://10.1.2.3/am")}, nil},
		"remote nodes":                     {9100, nil, []egressRule{{9100, "0.0.0.0/0", "node_exporter on nodes in other discovery regions"}}},
		"alertmanager by IP gets that address only": {0, []config.Alertmanager{am("http://10.1.2.3:9093"), am("http://10.1.2.3:9093/other")},
			[]egressRule{{9093, "10.1.2.3/32", "Alertmanager (alertmanagerUrls)"}}},
		"a name opens the port to every address, which covers the IPs": {0, []config.Alertmanager{am("http://10.1.2.3:9093"), am("http://am.example.com:9093"), am("http://am.example.com")},
			[]egressRule{{9093, "0.0.0.0/0", "Alertmanager (alertmanagerUrls)"}, {80, "0.0.0.0/0", "Alertmanager (alertmanagerUrls)"}}},
		"alertmanager on the node port": {9100, []config.Alertmanager{am("http://10.1.2.3:9100")}, []egressRule{{9100, "0.0.0.0/0", "node_exporter on nodes in other discovery regions"}}},
	} {
		if got := prometheusEgress(c.port, c.ams); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", name, got, c.want)
		}
	}
}
