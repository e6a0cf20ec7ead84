package config

import (
	"strings"
	"testing"
)

// FuzzLoad feeds the settings loader a cdktf.json document and an
// environment (NAME=value lines): every input must end in settings that
// validate, or in an error each of whose lines points at what to fix (a
// setting's key, a PROMAWS_ variable, the context key or the file). No
// input may panic. make test runs the seed corpus; make fuzz searches.
func FuzzLoad(f *testing.F) {
	seeds := []struct{ cdktf, env string }{
		{`{"context": {}}`, ""},
		{`{"context": {"region": "us-east-1", "nodeCount": 3, "adminCidrs": ["10.1.0.0/16"]}}`, "PROMAWS_NODE_COUNT=5"},
		{`{"context": {"vpcCidr": "10.0.0.0/25"}}`, ""},
		{`{"context": {}}`, "PROMAWS_VPC_CIDR=10.0.0.0/29"},
		{`{"context": {"scrapeInterval": "0s", "refreshInterval": "0ms"}}`, ""},
		{`{"context": {"region": "eu-centrall-1", "availabilityZones": ["eu-central-1a", "eu-central-1q"]}}`, ""},
		{`{"context": {"nodeCont": 3, "environments": {"dev": {"nodeCuont": 1}}}}`, "PROMAWS_NODE_CONUT=2"},
		{`{"context": {"prometheusPort": 9100}}`, ""},
		{`{"context": {"nodeCount": 3,}}`, ""},
		{`{"context": {"environments": {"prod": {"nodeCount": 4, "environment": "x"}}}}`, "PROMAWS_ENVIRONMENT=prod"},
		{`{"context": {"environments": []}}`, ""},
		{`{"context": {"region": {"a": 1}, "adminCidrs": [1]}}`, ""},
		{`{"context": {"subnetCidrs": "10.0.0.0/24,10.0.0.128/25", "azCount": 2}}`, ""},
		{`{"context": {"discoveryRegions": "eu-west-1,Ireland,eu-west-1", "scrapeAddress": "public"}}`, ""},
		{`{"context": {"storageMode": "amp", "replicas": 4, "retention": "1h"}}`, ""},
		{`{"context": {"alertmanagerUrls": "http://[::1]:0/x?y", "endpoint": "127.0.0.1"}}`, ""},
		{`[]`, ""},
		{``, "PROMAWS_REGION=\x00"},
	}
	for _, s := range seeds {
		f.Add([]byte(s.cdktf), s.env)
	}
	f.Fuzz(func(t *testing.T, cdktf []byte, envText string) {
		ctx, err := parseCdktfJSON("cdktf.json", cdktf)
		if err != nil {
			if !strings.Contains(err.Error(), "cdktf.json") || !strings.Contains(err.Error(), "it must be JSON") {
				t.Fatalf("a cdktf.json error must name the file and say it must be JSON: %v", err)
			}
			return
		}
		env := map[string]string{}
		for _, line := range strings.Split(envText, "\n") {
			if name, value, ok := strings.Cut(line, "="); ok && strings.HasPrefix(name, "PROMAWS_") {
				env[name] = value
			}
		}
		s, err := Load(ctx, env)
		if err == nil {
			if verr := s.Validate(); verr != nil {
				t.Fatalf("Load returned settings that do not validate: %v", verr)
			}
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if line != "" && !namesSomething(line) {
				t.Fatalf("error line names no setting, variable or key: %q\n(input %q, env %q)", line, cdktf, envText)
			}
		}
	})
}

// namesSomething reports whether an error line points at a setting (its
// key), a variable, or a context key or object.
func namesSomething(line string) bool {
	if strings.Contains(line, "PROMAWS_") || strings.Contains(line, "context") {
		return true
	}
	for _, f := range Fields {
		if strings.Contains(line, f.Key) {
			return true
		}
	}
	return false
}
