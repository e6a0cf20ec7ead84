package constructs

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/secretsmanagersecret"
	"gopkg.in/yaml.v3"

	cd "github.com/prometheus-aws/prometheus-aws/constructs/containerdef"
	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
	tc "github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
)

// Grafana OSS as a container of the Prometheus task: its data source and
// dashboards provisioned from files the config-sync sidecar delivers and
// keeps current, like prometheus.yml, so Grafana holds no state worth
// losing (its database is a tmpfs). It is reached like Prometheus: the
// admin ranges (never the whole internet) or the load balancer, under
// /grafana. docs/DESIGN.md says why a container of the task and not a
// service of its own.

// GrafanaProps add Grafana to the task.
type GrafanaProps struct {
	// Image is the container image. Default: defaults.GrafanaImage (the
	// official grafana/grafana, pinned).
	Image string
	// Port is its web port. Default: 3000 (defaults.GrafanaPort).
	Port int
	// Dashboards are dashboard JSON documents by file name (e.g.
	// "fleet.json"), provisioned read-only and reloaded in place when they
	// change. Default: none.
	Dashboards map[string]string
	// AdminUser is the admin's user name; its password is generated into a
	// secret of its own. Default: admin (defaults.BasicAuthUser).
	AdminUser string
	// PasswordVersion: a new number generates a new admin password on the
	// next apply. Default: 1.
	PasswordVersion int
}

// The folders config-sync delivers Grafana's files into (in tc.ConfigDir).
const (
	grafanaProvisioning = "grafana/provisioning"
	grafanaDashboards   = "grafana/dashboards"
	grafanaPrefix       = "/grafana"
	grafanaContainer    = "grafana"
	grafanaUID          = "472" // the official image's grafana user
)

func checkGrafanaProps(id string, g *GrafanaProps, taken ...int) {
	g.Image = orDefault(g.Image, defaults.GrafanaImage)
	g.Port = intOr(g.Port, defaults.GrafanaPort)
	g.AdminUser = orDefault(g.AdminUser, defaults.BasicAuthUser)
	g.PasswordVersion = intOr(g.PasswordVersion, 1)
	if slices.Contains(taken, g.Port) {
		panic(fmt.Sprintf("PrometheusFargateService %s: Grafana.Port %d is another container's port", id, g.Port))
	}
}

// grafanaFiles are the files Grafana is provisioned from: the Prometheus
// data source (the task's own Prometheus, with its basic auth; or the AMP
// workspace through SigV4 with the task role), the dashboard provider, and
// each dashboard gzip-compressed (one runs to 45 KB; a parameter holds 8).
func (s *PrometheusFargateService) grafanaFiles(scope constructs.Construct, id string) []syncedFile {
	p := &s.props
	g := p.Grafana
	var files []syncedFile
	add := func(file, value, encoding string) {
		tier := SSMTier(len(value))
		if tier == "" {
			panic(fmt.Sprintf("PrometheusFargateService %s: Grafana's %s is %d bytes encoded; an SSM parameter holds at most %d", id, file, len(value), SSMAdvancedLimit))
		}
		param := newGeneratedParameter(scope, "grafana-"+path.Base(file), p.Name, "grafana", path.Base(file), tier, value)
		files = append(files, syncedFile{File: file, Parameter: param, Encoding: encoding})
	}
	add(grafanaProvisioning+"/datasources/prometheus.yml", s.grafanaDataSource(), "")
	add(grafanaProvisioning+"/dashboards/prometheus-aws.yml", TerraformLiteral(mustYAML(map[string]any{
		"apiVersion": 1,
		"providers": []map[string]any{{
			"name": "prometheus-aws", "type": "file", "disableDeletion": true, "allowUiUpdates": false,
			"updateIntervalSeconds": 30, "options": map[string]any{"path": tc.ConfigDir + "/" + grafanaDashboards},
		}},
	})), "")
	for _, name := range slices.Sorted(maps.Keys(g.Dashboards)) {
		add(grafanaDashboards+"/"+name, gzipBase64(g.Dashboards[name]), "gzip")
	}
	return files
}

// grafanaDataSource is the provisioned data source (Grafana's documented
// provisioning format, "Provision Grafana: Data sources"), as a parameter
// value; the password is read from the container's environment when
// Grafana starts.
func (s *PrometheusFargateService) grafanaDataSource() string {
	p := &s.props
	ds := map[string]any{"name": "Prometheus", "uid": "prometheus", "type": "prometheus", "access": "proxy", "isDefault": true, "editable": false}
	if p.Workspace != nil {
		ds["url"] = ampQueryPlaceholder // the workspace's endpoint, known at apply
		ds["jsonData"] = map[string]any{"httpMethod": "POST", "sigV4Auth": true, "sigV4AuthType": "default", "sigV4Region": p.Region}
	} else {
		ds["url"] = "http://127.0.0.1:" + strconv.Itoa(p.Port)
		ds["jsonData"] = map[string]any{"httpMethod": "POST"}
		if s.auth != nil {
			ds["basicAuth"] = true
			// The machine credential, as Prometheus's own clients (the
			// human user's password is never in the task).
			ds["basicAuthUser"] = tc.MachineUser
			ds["secureJsonData"] = map[string]any{"basicAuthPassword": "$" + tc.EnvBasicAuthPassword}
		}
	}
	v := TerraformLiteral(mustYAML(map[string]any{"apiVersion": 1, "datasources": []any{ds}}))
	if p.Workspace != nil {
		v = strings.ReplaceAll(v, ampQueryPlaceholder, *p.Workspace.Workspace.PrometheusEndpoint())
	}
	return v
}

// ampQueryPlaceholder stands for the workspace's query endpoint until apply.
const ampQueryPlaceholder = "AMP_PROMETHEUS_ENDPOINT"

// grafanaContainer runs the official image unmodified: not essential (a
// Grafana that exits restarts in place and never takes Prometheus down),
// started once config-sync has delivered every file (it reads its data
// sources at start), read-only root, its database on a tmpfs.
func (s *PrometheusFargateService) grafanaContainer(admin secretsmanagersecret.SecretsmanagerSecret) cd.Container {
	p := &s.props
	g := p.Grafana
	root := "%(protocol)s://%(domain)s:%(http_port)s" + grafanaPrefix + "/"
	if p.LoadBalancer != nil {
		root = *p.LoadBalancer.URL + grafanaPrefix + "/"
	}
	env := []cd.KeyValue{
		{Name: "GF_PATHS_PROVISIONING", Value: tc.ConfigDir + "/" + grafanaProvisioning},
		{Name: "GF_PATHS_DATA", Value: "/var/lib/grafana"},
		{Name: "GF_LOG_MODE", Value: "console"},
		{Name: "GF_SERVER_HTTP_PORT", Value: strconv.Itoa(g.Port)},
		{Name: "GF_SERVER_ROOT_URL", Value: root},
		{Name: "GF_SERVER_SERVE_FROM_SUB_PATH", Value: "true"},
		{Name: "GF_SECURITY_ADMIN_USER", Value: g.AdminUser},
		{Name: "GF_USERS_ALLOW_SIGN_UP", Value: "false"},
		{Name: "GF_AUTH_ANONYMOUS_ENABLED", Value: "false"},
		// Nothing fetched from the internet at start or later.
		{Name: "GF_PLUGINS_PREINSTALL_DISABLED", Value: "true"},
		{Name: "GF_ANALYTICS_REPORTING_ENABLED", Value: "false"},
		{Name: "GF_ANALYTICS_CHECK_FOR_UPDATES", Value: "false"},
		{Name: "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES", Value: "false"},
	}
	if p.LoadBalancer.SignsIn() {
		env = append(env, grafanaAuthProxy()...)
	}
	secrets := []cd.Secret{{Name: "GF_SECURITY_ADMIN_PASSWORD", ValueFrom: *admin.Arn() + ":" + tc.SecretPasswordKey + "::"}}
	if p.Workspace != nil {
		env = append(env, cd.KeyValue{Name: "GF_AUTH_SIGV4_AUTH_ENABLED", Value: "true"}, cd.KeyValue{Name: "AWS_REGION", Value: p.Region})
	} else if s.auth != nil {
		secrets = append(secrets, s.auth.machinePassword())
	}
	return cd.Container{
		Name:                   grafanaContainer,
		Image:                  g.Image,
		Essential:              false,
		RestartPolicy:          &cd.RestartPolicy{Enabled: true, RestartAttemptPeriod: 60},
		User:                   grafanaUID,
		ReadonlyRootFilesystem: true,
		MountPoints:            []cd.MountPoint{configMount()},
		DependsOn:              []cd.Dependency{{ContainerName: tc.ConfigSyncContainerName, Condition: "HEALTHY"}},
		// Its database, sessions and plugin folder: nothing kept.
		LinuxParameters: &cd.LinuxParameters{Capabilities: dropAll(), Tmpfs: []cd.Tmpfs{{ContainerPath: "/var/lib/grafana", Size: 128, MountOptions: []string{"noexec", "nosuid", "nodev"}}}},
		PortMappings:    []cd.PortMapping{{ContainerPort: g.Port, HostPort: g.Port, Protocol: "tcp"}},
		Environment:     env,
		Secrets:         secrets,
		HealthCheck: healthCheck(fmt.Sprintf("wget -q -O /dev/null http://127.0.0.1:%d%s/api/health || exit 1", g.Port, grafanaPrefix),
			60),
		StopTimeout:      10,
		LogConfiguration: awslogs(*s.LogGroup.Name(), p.Region, "grafana"),
	}
}

// grafanaAuthProxy signs people in to Grafana as the user the load
// balancer signed in (Grafana's auth proxy, "Configure auth proxy
// authentication"), so nobody signs in twice: the user is the header's
// value (the provider's sub claim: stable, unlike an email address),
// created on first visit as a Viewer (the dashboards are provisioned
// read-only; an admin raises roles in Grafana). The login form and the
// sign-out menu are off: there is no Grafana password to type, and signing
// out of Grafana would not end the load balancer's session. The header is
// trusted because nothing but the load balancer reaches Grafana's port
// (the task's security group: the load balancer's group only, never the
// machine path nor an address range; policy rule sso-authenticates), and
// the load balancer forwards nothing before it has authenticated
// (docs/DESIGN.md, "Single sign-on").
func grafanaAuthProxy() []cd.KeyValue {
	return []cd.KeyValue{
		{Name: "GF_AUTH_PROXY_ENABLED", Value: "true"},
		{Name: "GF_AUTH_PROXY_HEADER_NAME", Value: IdentityHeader},
		{Name: "GF_AUTH_PROXY_HEADER_PROPERTY", Value: "username"},
		{Name: "GF_AUTH_PROXY_AUTO_SIGN_UP", Value: "true"},
		{Name: "GF_USERS_AUTO_ASSIGN_ORG_ROLE", Value: "Viewer"},
		{Name: "GF_AUTH_DISABLE_LOGIN_FORM", Value: "true"},
		{Name: "GF_AUTH_DISABLE_SIGNOUT_MENU", Value: "true"},
	}
}

// grafanaQueryStatement lets the task role query the AMP workspace (the
// SigV4 data source), and nothing else there.
func (s *PrometheusFargateService) grafanaQueryStatement() Statement {
	return Statement{Sid: "GrafanaQuery", Effect: "Allow",
		Action:   []string{"aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"},
		Resource: []string{*s.props.Workspace.Workspace.Arn()}}
}

func mustYAML(v any) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return buf.String()
}

// gzipBase64 is s gzip-compressed and base64-encoded, as config-sync
// decodes a file marked gzip.
func gzipBase64(s string) string {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}
