package stacks

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/prometheus-aws/prometheus-aws/constructs/containerdef"
	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// Grafana's provisioning files, as its documentation defines them
// ("Provision Grafana": data sources, dashboard providers): decoded with
// unknown keys refused, so a misspelt key fails here, not in Grafana.
type grafanaDataSources struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name           string            `yaml:"name"`
		UID            string            `yaml:"uid"`
		Type           string            `yaml:"type"`
		Access         string            `yaml:"access"`
		URL            string            `yaml:"url"`
		IsDefault      bool              `yaml:"isDefault"`
		Editable       bool              `yaml:"editable"`
		BasicAuth      bool              `yaml:"basicAuth"`
		BasicAuthUser  string            `yaml:"basicAuthUser"`
		JSONData       map[string]any    `yaml:"jsonData"`
		SecureJSONData map[string]string `yaml:"secureJsonData"`
	} `yaml:"datasources"`
}

type grafanaProviders struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name                  string `yaml:"name"`
		Type                  string `yaml:"type"`
		DisableDeletion       bool   `yaml:"disableDeletion"`
		AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
		UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
		Options               struct {
			Path string `yaml:"path"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

func strictYAML(t *testing.T, data string, v any) {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("not Grafana's provisioning format: %v\n%s", err, data)
	}
}

// grafanaParameter is the value of the parameter whose name ends in file.
func grafanaParameter(t *testing.T, d *policy.Doc, file string) string {
	t.Helper()
	for _, p := range d.Of("aws_ssm_parameter") {
		if strings.HasSuffix(policy.Str(p["name"]), "/grafana/"+file) {
			return policy.Str(p["insecure_value"])
		}
	}
	t.Fatalf("no parameter holds Grafana's %s", file)
	return ""
}

func containersOf(t *testing.T, d *policy.Doc) []containerdef.Container {
	t.Helper()
	_, task := one(t, d, "aws_ecs_task_definition")
	cs, err := containerdef.Parse(policy.Str(task["container_definitions"]))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// Grafana in the task: behind the load balancer (efs, basic auth), and
// reading the workspace through SigV4 (amp).
var (
	withGrafana = declare("grafana", env{"PROMAWS_GRAFANA": "true", "PROMAWS_TLS_CERTIFICATE_ARN": testCert, "PROMAWS_ADMIN_CIDRS": "198.51.100.0/24"})
	grafanaAMP  = declare("grafana-amp", env{"PROMAWS_GRAFANA": "true", "PROMAWS_STORAGE_MODE": "amp", "PROMAWS_ADMIN_CIDRS": "10.8.0.0/16", "PROMAWS_ALLOW_PLAIN_HTTP_ADMIN": "true"})
)

// TestGrafanaInTheTask: grafana=true runs the official image as a
// container that never stops the task, after config-sync has delivered its
// provisioning, with a read-only root, its database on a tmpfs, its admin
// password from a generated secret (not in the JSON), the dashboards of
// dashboards/ delivered compressed, and reached like Prometheus.
func TestGrafanaInTheTask(t *testing.T) {
	d := withGrafana.doc(t)
	var g *containerdef.Container
	for _, c := range containersOf(t, d) {
		if c.Name == "grafana" {
			g = &c
		}
	}
	if g == nil {
		t.Fatal("grafana=true: no grafana container in the task")
	}
	if g.Image != defaults.GrafanaImage || g.Essential || g.RestartPolicy == nil || !g.RestartPolicy.Enabled || !g.ReadonlyRootFilesystem {
		t.Errorf("grafana: image %s, essential %v, restart %v, read-only %v", g.Image, g.Essential, g.RestartPolicy, g.ReadonlyRootFilesystem)
	}
	if len(g.DependsOn) != 1 || g.DependsOn[0] != (containerdef.Dependency{ContainerName: taskcontract.ConfigSyncContainerName, Condition: "HEALTHY"}) {
		t.Errorf("grafana reads its data sources at start: it must wait for config-sync HEALTHY, %v", g.DependsOn)
	}
	if g.LinuxParameters == nil || len(g.LinuxParameters.Tmpfs) != 1 || g.LinuxParameters.Tmpfs[0].ContainerPath != g.Env("GF_PATHS_DATA") {
		t.Errorf("its database must be on a tmpfs at GF_PATHS_DATA: %v", g.LinuxParameters)
	}
	if g.Env("GF_PATHS_PROVISIONING") != taskcontract.ConfigDir+"/grafana/provisioning" || g.Env("GF_SERVER_SERVE_FROM_SUB_PATH") != "true" ||
		!strings.HasSuffix(g.Env("GF_SERVER_ROOT_URL"), "/grafana/") || g.Env("GF_PLUGINS_PREINSTALL_DISABLED") != "true" {
		t.Errorf("grafana environment: %v", g.Environment)
	}
	admin := ""
	for _, s := range g.Secrets {
		if s.Name == "GF_SECURITY_ADMIN_PASSWORD" {
			admin = s.ValueFrom
		}
	}
	_, secret := one(t, filterByName(d, "aws_secretsmanager_secret", "grafana-admin"), "aws_secretsmanager_secret")
	if !strings.Contains(admin, "grafana-admin") || secret["recovery_window_in_days"] == nil {
		t.Errorf("the admin password comes from the grafana-admin secret: %q", admin)
	}
	for _, v := range d.Of("aws_secretsmanager_secret_version") {
		if v["secret_string"] != nil || !strings.Contains(policy.Str(v["secret_string_wo"]), "ephemeral.aws_secretsmanager_random_password.") {
			t.Errorf("a generated password never reaches the JSON, a plan or the state: %v", v)
		}
	}

	var ds grafanaDataSources
	strictYAML(t, grafanaParameter(t, d, "prometheus.yml"), &ds)
	src := ds.Datasources[0]
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 || src.Type != "prometheus" || src.URL != "http://127.0.0.1:9090" ||
		!src.BasicAuth || src.BasicAuthUser != taskcontract.MachineUser || src.SecureJSONData["basicAuthPassword"] != "$"+taskcontract.EnvBasicAuthPassword {
		t.Errorf("data source: %+v", ds)
	}
	var prov grafanaProviders
	strictYAML(t, grafanaParameter(t, d, "prometheus-aws.yml"), &prov)
	if prov.APIVersion != 1 || len(prov.Providers) != 1 || prov.Providers[0].Type != "file" || prov.Providers[0].Options.Path != taskcontract.ConfigDir+"/grafana/dashboards" {
		t.Errorf("dashboard provider: %+v", prov)
	}
	for _, file := range []string{"fleet.json", "prometheus.json", "alerts.json"} {
		raw, err := base64.StdEncoding.DecodeString(grafanaParameter(t, d, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		got, _ := io.ReadAll(zr)
		want, _ := os.ReadFile(filepath.Join("..", "dashboards", file))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the delivered dashboard is not dashboards/%s", file, file)
		}
	}
	sync := ""
	for _, c := range containersOf(t, d) {
		if c.Name == taskcontract.ConfigSyncContainerName {
			sync = c.Env(taskcontract.EnvConfigSyncFiles)
		}
	}
	if strings.Count(sync, " gzip") != 3 || !strings.Contains(sync, "grafana/provisioning/datasources/prometheus.yml ") {
		t.Errorf("config-sync must deliver Grafana's files, the dashboards decoded: %s", sync)
	}
	route := false
	for _, r := range d.Of("aws_lb_listener_rule") {
		route = route || strings.Contains(strings.Join(policy.Strings(policy.Path(r, "condition", "path_pattern", "values")), ","), "/grafana/*")
	}
	_, tg := one(t, filterByName(d, "aws_lb_target_group", "grafana"), "aws_lb_target_group")
	if !route || policy.Str(policy.Path(tg, "health_check", "path")) != "/grafana/api/health" {
		t.Errorf("the load balancer serves Grafana under /grafana, checked on its health API: route %v, target group %v", route, tg["health_check"])
	}
}

// TestGrafanaReadsTheWorkspace: with storageMode=amp the data source is the
// workspace through SigV4 and the task role may query that workspace and
// nothing else; Grafana's port admits the admin ranges only.
func TestGrafanaReadsTheWorkspace(t *testing.T) {
	d := grafanaAMP.doc(t)
	var ds grafanaDataSources
	strictYAML(t, grafanaParameter(t, d, "prometheus.yml"), &ds)
	src := ds.Datasources[0]
	if !strings.Contains(src.URL, "aws_prometheus_workspace.") || src.JSONData["sigV4Auth"] != true || src.JSONData["sigV4Region"] != "eu-central-1" || src.BasicAuth {
		t.Errorf("amp data source: %+v", src)
	}
	query := false
	for _, p := range d.Of("aws_iam_role_policy") {
		doc := policy.Str(p["policy"])
		if strings.Contains(doc, "aps:QueryMetrics") {
			query = strings.Contains(doc, `"Sid":"GrafanaQuery"`) && strings.Contains(doc, "${aws_prometheus_workspace.")
		}
	}
	if !query {
		t.Error("the task role must query the workspace (aps:QueryMetrics), on its ARN alone")
	}
	for _, r := range d.Of("aws_vpc_security_group_ingress_rule") {
		if policy.Num(r["from_port"]) == defaults.GrafanaPort && r["cidr_ipv4"] != "10.8.0.0/16" {
			t.Errorf("Grafana admits the admin ranges only: %v", r)
		}
	}
}

// filterByName is d with only the resources of typ whose name holds part.
func filterByName(d *policy.Doc, typ, part string) *policy.Doc {
	out := &policy.Doc{Raw: d.Raw, Resources: map[string]map[string]map[string]any{typ: {}}}
	for n, r := range d.Of(typ) {
		if strings.Contains(policy.Str(r["name"]), part) {
			out.Resources[typ][n] = r
		}
	}
	return out
}

// TestAlertsLinkTheirDashboards: with Grafana behind the load balancer,
// every alert of the task's rules carries a dashboard annotation with
// Grafana's URL there (filled in at apply), the node alerts to the fleet
// dashboard and Prometheus's to its own; without Grafana none.
func TestAlertsLinkTheirDashboards(t *testing.T) {
	links := func(v *variant) (fleet, prom int, other string) {
		for _, p := range v.doc(t).Of("aws_ssm_parameter") {
			v := policy.Str(p["insecure_value"])
			if !strings.Contains(policy.Str(p["name"]), "/prometheus/rules/") {
				continue
			}
			for _, l := range strings.Split(v, "\n") {
				if u, ok := strings.CutPrefix(strings.TrimSpace(l), "dashboard: "); ok {
					switch {
					case strings.HasSuffix(u, "/grafana/d/prometheus-aws-fleet") && strings.Contains(u, "${aws_lb."):
						fleet++
					case strings.HasSuffix(u, "/grafana/d/prometheus-aws-prometheus") && strings.Contains(u, "${aws_lb."):
						prom++
					default:
						other = u
					}
				}
			}
		}
		return
	}
	if fleet, prom, other := links(withGrafana); fleet < 5 || prom < 2 || other != "" {
		t.Errorf("grafana behind the load balancer: %d fleet and %d Prometheus dashboard links (other: %q)", fleet, prom, other)
	}
	if fleet, prom, _ := links(tlsCert); fleet+prom != 0 {
		t.Errorf("without Grafana no alert links to a dashboard: %d", fleet+prom)
	}
}
