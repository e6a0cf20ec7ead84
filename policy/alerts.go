package policy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// topicRefRE finds the topics an alert manager definition publishes to.
var topicRefRE = regexp.MustCompile(`\$\{aws_sns_topic\.([A-Za-z0-9_-]+)\.arn\}`)

// ampAlertsKeyUsable: an AMP workspace's alert manager publishing to a topic
// encrypted with a customer key delivers nothing unless the key policy lets
// aps.amazonaws.com use the key (AMP user guide, "Giving Amazon Managed
// Service for Prometheus permission to send alert messages to your Amazon
// SNS topic": kms:GenerateDataKey* and kms:Decrypt for an SSE topic). A key
// this stack manages must carry that statement; a key it does not (its
// policy cannot be read at synth) needs the owner's word, kmsKeyAllowsAps.
func ampAlertsKeyUsable(d *Doc, o Options) []Violation {
	var out []Violation
	for _, name := range d.Names("aws_prometheus_alert_manager_definition") {
		def := Str(d.Of("aws_prometheus_alert_manager_definition")[name]["definition"])
		for _, m := range topicRefRE.FindAllStringSubmatch(def, -1) {
			topic, ok := d.Of("aws_sns_topic")[m[1]]
			key := Str(topic["kms_master_key_id"])
			if !ok || key == "" {
				continue
			}
			id := "aws_prometheus_alert_manager_definition." + name
			if k, managed := managedKey(d, key); managed {
				if !keyAdmitsAps(k) {
					out = append(out, Violation{"amp-alerts-key-usable", id, fmt.Sprintf("publishes to aws_sns_topic.%s, encrypted with a key whose policy does not let aps.amazonaws.com kms:GenerateDataKey* and kms:Decrypt: every alert would be dropped", m[1])})
				}
				continue
			}
			if !o.KmsKeyAllowsAps {
				out = append(out, Violation{"amp-alerts-key-usable", id, fmt.Sprintf("publishes to aws_sns_topic.%s, encrypted with %s, whose key policy must let aps.amazonaws.com use it (else every alert is dropped); add the statement in docs/alerting.md and set kmsKeyAllowsAps=true", m[1], key)})
			}
		}
	}
	return out
}

// managedKey is the aws_kms_key a topic's kms_master_key_id refers to.
func managedKey(d *Doc, ref string) (map[string]any, bool) {
	for _, name := range d.Names("aws_kms_key") {
		if strings.HasPrefix(ref, "${aws_kms_key."+name+".") {
			return d.Of("aws_kms_key")[name], true
		}
	}
	return nil, false
}

// keyAdmitsAps: an Allow statement for the service principal
// aps.amazonaws.com with both actions an SSE topic's publisher needs.
func keyAdmitsAps(key map[string]any) bool {
	var doc struct {
		Statement []struct {
			Effect    string
			Principal struct{ Service any }
			Action    any
		}
	}
	if json.Unmarshal([]byte(Str(key["policy"])), &doc) != nil {
		return false
	}
	for _, st := range doc.Statement {
		actions := Strings(st.Action)
		if st.Effect == "Allow" && slices.Contains(Strings(st.Principal.Service), "aps.amazonaws.com") &&
			(slices.Contains(actions, "kms:GenerateDataKey*") || slices.Contains(actions, "kms:GenerateDataKey")) && slices.Contains(actions, "kms:Decrypt") {
			return true
		}
	}
	return false
}
