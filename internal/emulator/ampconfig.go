package emulator

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sync"
)

// moto 5.2 has no AMP workspace configuration API, so Terraform's
// aws_prometheus_workspace_configuration (the workspace's retention,
// storageMode=amp) cannot be applied to it. The front answers the two calls
// the provider makes (Amazon Managed Service for Prometheus API reference:
// UpdateWorkspaceConfiguration, PATCH /workspaces/{workspaceId}/configuration,
// 202 with the status UPDATING; DescribeWorkspaceConfiguration, GET on the
// same path), the configuration kept in memory per region and workspace,
// the workspace looked up in moto (ResourceNotFoundException, 404, when it
// does not exist there) and the retention held to AMP's range. An update is
// ACTIVE at once: nothing is stored or expired by it. Emulator-only; named
// in docs/DESIGN.md (the local profile and its emulator).

// workspaceConfigPath is the configuration's REST path; [1] the workspace id.
var workspaceConfigPath = regexp.MustCompile(`^/workspaces/([^/]+)/configuration$`)

// AMP's range of retentionPeriodInDays (User Guide, "Configure your
// workspace"), and what a workspace without a configured one keeps.
const (
	ampMinRetentionDays     = 1
	ampMaxRetentionDays     = 1095
	ampDefaultRetentionDays = 150
)

// workspaceConfiguration is a configuration as the API returns it.
type workspaceConfiguration struct {
	RetentionPeriodInDays int             `json:"retentionPeriodInDays"`
	LimitsPerLabelSet     json.RawMessage `json:"limitsPerLabelSet,omitempty"`
	Status                struct {
		StatusCode string `json:"statusCode"`
	} `json:"status"`
}

// workspaceConfigs holds the configurations, by "region/workspace id".
type workspaceConfigs struct {
	mu      sync.Mutex
	configs map[string]*workspaceConfiguration
}

func newWorkspaceConfigs() *workspaceConfigs {
	return &workspaceConfigs{configs: map[string]*workspaceConfiguration{}}
}

// reset forgets every configuration, as moto's reset forgets workspaces.
func (c *workspaceConfigs) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.configs = map[string]*workspaceConfiguration{}
}

// override answers the workspace configuration calls of the aps service;
// every other request goes on to moto.
func (c *workspaceConfigs) override(req *Request) (Answer, bool) {
	m := workspaceConfigPath.FindStringSubmatch(req.URL.Path)
	if m == nil || signingService(req.Request) != "aps" || (req.Method != http.MethodGet && req.Method != http.MethodPatch) {
		return Answer{}, false
	}
	id := m[1]
	resp, body, err := req.askREST(http.MethodGet, "/workspaces/"+id)
	switch {
	case err != nil:
		return restError(http.StatusInternalServerError, "InternalServerException", "asking moto for workspace %s: %v", id, err), true
	case resp.StatusCode == http.StatusNotFound:
		return restError(http.StatusNotFound, "ResourceNotFoundException", "Workspace not found: %s", id), true
	case resp.StatusCode != http.StatusOK:
		return restError(http.StatusInternalServerError, "InternalServerException", "moto's DescribeWorkspace of %s answered HTTP %d: %s", id, resp.StatusCode, body), true
	}
	key := signingRegion(req.Request) + "/" + id
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg := c.configs[key]
	if cfg == nil {
		cfg = &workspaceConfiguration{RetentionPeriodInDays: ampDefaultRetentionDays}
		cfg.Status.StatusCode = "ACTIVE"
	}
	if req.Method == http.MethodGet {
		return restJSON(http.StatusOK, map[string]any{"workspaceConfiguration": cfg}), true
	}
	var in struct {
		RetentionPeriodInDays *int            `json:"retentionPeriodInDays"`
		LimitsPerLabelSet     json.RawMessage `json:"limitsPerLabelSet"`
	}
	if err := json.Unmarshal(req.Body, &in); err != nil {
		return restError(http.StatusBadRequest, "ValidationException", "the request body is not JSON: %v", err), true
	}
	next := *cfg
	if d := in.RetentionPeriodInDays; d != nil {
		if *d < ampMinRetentionDays || *d > ampMaxRetentionDays {
			return restError(http.StatusBadRequest, "ValidationException", "retentionPeriodInDays %d is outside %d to %d days", *d, ampMinRetentionDays, ampMaxRetentionDays), true
		}
		next.RetentionPeriodInDays = *d
	}
	if in.LimitsPerLabelSet != nil {
		next.LimitsPerLabelSet = in.LimitsPerLabelSet
	}
	c.configs[key] = &next
	return restJSON(http.StatusAccepted, map[string]any{"status": map[string]string{"statusCode": "UPDATING"}}), true
}

// signingService is the service of a SigV4 request's credential scope.
func signingService(r *http.Request) string {
	if parts := credentialScope(r); len(parts) > 3 {
		return parts[3]
	}
	return ""
}

// restJSON is an answer of the REST-JSON protocols.
func restJSON(status int, v any) Answer {
	a := jsonAnswer(v)
	if a.Status == 0 {
		a.Status = status
	}
	a.ContentType = "application/json"
	return a
}

// restError is an error of the REST-JSON protocols: the status, and the
// code the SDK reads from the body's __type.
func restError(status int, code, format string, args ...any) Answer {
	a := apiError(status, code, format, args...)
	a.ContentType = "application/json"
	return a
}
