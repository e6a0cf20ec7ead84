package emulator

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// moto 5.2 has no ECR pull through cache API, so Terraform's
// aws_ecr_pull_through_cache_rule cannot be applied to it. The front
// answers the API here (ECR API reference: CreatePullThroughCacheRule,
// DescribePullThroughCacheRules, UpdatePullThroughCacheRule,
// DeletePullThroughCacheRule), the rules kept in memory per registry
// (account and region), with the checks and errors of the real API; the
// local Fargate runner reads them through it to resolve a cached image
// (internal/fargate/pull.go). Nothing is fetched from an upstream.
// ValidatePullThroughCacheRule is left to moto (it answers unknown
// operations with an error): the AWS provider does not call it. Named in
// docs/DESIGN.md (the local profile and its emulator).

const ecrTarget = "AmazonEC2ContainerRegistry_V20150921."

// cacheRuleOps are the calls answered here.
var cacheRuleOps = []string{"CreatePullThroughCacheRule", "DescribePullThroughCacheRules", "UpdatePullThroughCacheRule", "DeletePullThroughCacheRule"}

// maxCacheRules is ECR's quota of pull through cache rules per registry.
const maxCacheRules = 50

// cacheRulePrefix is the documented pattern of ecrRepositoryPrefix (ECR
// API reference, CreatePullThroughCacheRule), 2 to 30 characters. The
// newer forms ROOT, a trailing "/" and upstreamRepositoryPrefix are not
// implemented: refused with a message saying so.
var cacheRulePrefix = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// credentialArnPattern is the documented pattern of credentialArn: a
// Secrets Manager secret named ecr-pullthroughcache/..., 50 to 612
// characters.
var credentialArnPattern = regexp.MustCompile(`^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\-pullthroughcache\/[a-zA-Z0-9\/_+=.@-]+$`)

var registryIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// upstreamRegistry is a registry a rule may cache (ECR API reference,
// CreatePullThroughCacheRule, upstreamRegistryUrl), and what ECR needs to
// reach it.
type upstreamRegistry struct {
	name string // upstreamRegistry
	url  *regexp.Regexp
	// needs is the request field the registry cannot be reached without:
	// credentialArn (a Secrets Manager secret), customRoleArn (ECR to
	// ECR), or "" for the registries cached without credentials.
	needs string
}

var upstreamRegistries = []upstreamRegistry{
	{name: "ecr-public", url: regexp.MustCompile(`^public\.ecr\.aws$`)},
	{name: "quay", url: regexp.MustCompile(`^quay\.io$`)},
	{name: "k8s", url: regexp.MustCompile(`^registry\.k8s\.io$`)},
	{name: "docker-hub", url: regexp.MustCompile(`^registry-1\.docker\.io$`), needs: "credentialArn"},
	{name: "github-container-registry", url: regexp.MustCompile(`^ghcr\.io$`), needs: "credentialArn"},
	{name: "gitlab-container-registry", url: regexp.MustCompile(`^registry\.gitlab\.com$`), needs: "credentialArn"},
	{name: "azure-container-registry", url: regexp.MustCompile(`^[a-z0-9]+\.azurecr\.io$`), needs: "credentialArn"},
	{name: "chainguard", url: regexp.MustCompile(`^cgr\.dev$`), needs: "credentialArn"},
	{name: "ecr", url: regexp.MustCompile(`^\d{12}\.dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$`), needs: "customRoleArn"},
}

// cacheRule is a rule as the API returns it (timestamps in epoch seconds,
// the JSON protocol's form).
type cacheRule struct {
	EcrRepositoryPrefix string   `json:"ecrRepositoryPrefix"`
	RegistryID          string   `json:"registryId"`
	UpstreamRegistryURL string   `json:"upstreamRegistryUrl"`
	UpstreamRegistry    string   `json:"upstreamRegistry"`
	CredentialArn       string   `json:"credentialArn,omitempty"`
	CustomRoleArn       string   `json:"customRoleArn,omitempty"`
	CreatedAt           float64  `json:"createdAt"`
	UpdatedAt           *float64 `json:"updatedAt,omitempty"`
}

// cacheRuleRequest holds the fields of every pull through cache call.
type cacheRuleRequest struct {
	EcrRepositoryPrefix      string   `json:"ecrRepositoryPrefix"`
	EcrRepositoryPrefixes    []string `json:"ecrRepositoryPrefixes"`
	RegistryID               string   `json:"registryId"`
	UpstreamRegistryURL      string   `json:"upstreamRegistryUrl"`
	UpstreamRegistry         string   `json:"upstreamRegistry"`
	UpstreamRepositoryPrefix string   `json:"upstreamRepositoryPrefix"`
	CredentialArn            string   `json:"credentialArn"`
	CustomRoleArn            string   `json:"customRoleArn"`
	MaxResults               int      `json:"maxResults"`
	NextToken                string   `json:"nextToken"`
}

// pullThroughCache holds the rules of every registry, by "account/region"
// then by prefix.
type pullThroughCache struct {
	mu    sync.Mutex
	rules map[string]map[string]*cacheRule
}

func newPullThroughCache() *pullThroughCache {
	return &pullThroughCache{rules: map[string]map[string]*cacheRule{}}
}

// reset forgets every rule, as moto's reset forgets its resources.
func (c *pullThroughCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rules = map[string]map[string]*cacheRule{}
}

// override answers the pull through cache calls; every other request goes
// on to moto.
func (c *pullThroughCache) override(req *Request) (Answer, bool) {
	op, ok := strings.CutPrefix(req.Target, ecrTarget)
	if !ok || !slices.Contains(cacheRuleOps, op) {
		return Answer{}, false
	}
	var in cacheRuleRequest
	if err := json.Unmarshal(req.Body, &in); err != nil {
		return apiError(http.StatusBadRequest, "SerializationException", "%s: the request body is not JSON: %v", op, err), true
	}
	if in.RegistryID != "" && !registryIDPattern.MatchString(in.RegistryID) {
		return invalidParameter("registryId", in.RegistryID, "must be a 12-digit account id"), true
	}
	account := in.RegistryID
	if account == "" {
		var err error
		if account, err = callerAccount(req); err != nil {
			return apiError(http.StatusInternalServerError, "ServerException", "%s: the caller's account: %v", op, err), true
		}
	}
	registry := account + "/" + signingRegion(req.Request)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rules[registry] == nil {
		c.rules[registry] = map[string]*cacheRule{}
	}
	rules := c.rules[registry]
	switch op {
	case "CreatePullThroughCacheRule":
		return createCacheRule(rules, account, in), true
	case "DescribePullThroughCacheRules":
		return describeCacheRules(rules, account, in), true
	case "UpdatePullThroughCacheRule":
		return updateCacheRule(rules, account, in), true
	default: // DeletePullThroughCacheRule
		rule, ok := rules[in.EcrRepositoryPrefix]
		if !ok {
			return ruleNotFound(account, in.EcrRepositoryPrefix), true
		}
		delete(rules, in.EcrRepositoryPrefix)
		return jsonAnswer(rule), true
	}
}

func createCacheRule(rules map[string]*cacheRule, account string, in cacheRuleRequest) Answer {
	switch {
	case in.EcrRepositoryPrefix == "ROOT" || strings.HasSuffix(in.EcrRepositoryPrefix, "/") || in.UpstreamRepositoryPrefix != "":
		return apiError(http.StatusBadRequest, "InvalidParameterException",
			"the emulator's pull through cache (internal/emulator/ecrcache.go) does not implement ROOT, a trailing '/' or upstreamRepositoryPrefix: name the repository prefix without them")
	case len(in.EcrRepositoryPrefix) < 2 || len(in.EcrRepositoryPrefix) > 30 || !cacheRulePrefix.MatchString(in.EcrRepositoryPrefix):
		return invalidParameter("ecrRepositoryPrefix", in.EcrRepositoryPrefix,
			"must be 2 to 30 characters matching '"+strings.Trim(cacheRulePrefix.String(), "^$")+"': lower-case letters and digits, separated by '.', '_', '-' or '/'")
	}
	up, answer, ok := upstreamOf(in)
	if !ok {
		return answer
	}
	if _, exists := rules[in.EcrRepositoryPrefix]; exists {
		return apiError(http.StatusBadRequest, "PullThroughCacheRuleAlreadyExistsException",
			"A pull through cache rule with the ecrRepositoryPrefix '%s' already exists in the registry with id '%s'", in.EcrRepositoryPrefix, account)
	}
	if len(rules) >= maxCacheRules {
		return apiError(http.StatusBadRequest, "LimitExceededException",
			"the registry with id '%s' has %d pull through cache rules, ECR's quota: delete one first", account, maxCacheRules)
	}
	rule := &cacheRule{EcrRepositoryPrefix: in.EcrRepositoryPrefix, RegistryID: account, UpstreamRegistryURL: in.UpstreamRegistryURL,
		UpstreamRegistry: up.name, CredentialArn: in.CredentialArn, CustomRoleArn: in.CustomRoleArn, CreatedAt: epoch(time.Now())}
	rules[in.EcrRepositoryPrefix] = rule
	return jsonAnswer(rule)
}

// upstreamOf checks the upstream a create names and what it needs; ok
// false comes with the error answer.
func upstreamOf(in cacheRuleRequest) (upstreamRegistry, Answer, bool) {
	i := slices.IndexFunc(upstreamRegistries, func(u upstreamRegistry) bool { return u.url.MatchString(in.UpstreamRegistryURL) })
	if i < 0 {
		return upstreamRegistry{}, apiError(http.StatusBadRequest, "UnsupportedUpstreamRegistryException",
			"The specified upstream registry isn't supported: %q is none of public.ecr.aws, quay.io, registry.k8s.io, registry-1.docker.io, ghcr.io, registry.gitlab.com, <name>.azurecr.io, cgr.dev, <account>.dkr.ecr.<region>.amazonaws.com", in.UpstreamRegistryURL), false
	}
	up := upstreamRegistries[i]
	if in.UpstreamRegistry != "" && in.UpstreamRegistry != up.name {
		return up, invalidParameter("upstreamRegistry", in.UpstreamRegistry, "must be "+up.name+", the registry of "+in.UpstreamRegistryURL), false
	}
	if a, ok := checkCredentials(up, in); !ok {
		return up, a, false
	}
	return up, Answer{}, true
}

// checkCredentials refuses a rule without what its upstream needs, and a
// credentialArn that is not an ecr-pullthroughcache/ secret.
func checkCredentials(up upstreamRegistry, in cacheRuleRequest) (Answer, bool) {
	if in.CredentialArn != "" && (len(in.CredentialArn) < 50 || len(in.CredentialArn) > 612 || !credentialArnPattern.MatchString(in.CredentialArn)) {
		return invalidParameter("credentialArn", in.CredentialArn, "must be the ARN of a Secrets Manager secret whose name begins with ecr-pullthroughcache/"), false
	}
	switch {
	case up.needs == "credentialArn" && in.CredentialArn == "":
		return apiError(http.StatusBadRequest, "InvalidParameterException",
			"the upstream registry %s (%s) needs credentials: give credentialArn, a Secrets Manager secret named ecr-pullthroughcache/... holding its username and accessToken; only public.ecr.aws, quay.io and registry.k8s.io are cached without", in.UpstreamRegistryURL, up.name), false
	case up.needs == "customRoleArn" && in.CustomRoleArn == "":
		return apiError(http.StatusBadRequest, "InvalidParameterException",
			"the upstream registry %s is a private ECR registry: give customRoleArn, the role ECR assumes to read it", in.UpstreamRegistryURL), false
	}
	return Answer{}, true
}

func describeCacheRules(rules map[string]*cacheRule, account string, in cacheRuleRequest) Answer {
	var found []*cacheRule
	if len(in.EcrRepositoryPrefixes) > 0 {
		for _, p := range in.EcrRepositoryPrefixes {
			rule, ok := rules[p]
			if !ok {
				return ruleNotFound(account, p)
			}
			found = append(found, rule)
		}
	} else {
		for _, p := range slices.Sorted(maps.Keys(rules)) {
			found = append(found, rules[p])
		}
	}
	// nextToken is the index of the next rule (a page of maxResults).
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(found) {
			return apiError(http.StatusBadRequest, "InvalidParameterException", "nextToken %q is not one this API returned", in.NextToken)
		}
		start = n
	}
	if in.MaxResults < 0 || in.MaxResults > 1000 {
		return invalidParameter("maxResults", strconv.Itoa(in.MaxResults), "must be 1 to 1000")
	}
	out := struct {
		Rules     []*cacheRule `json:"pullThroughCacheRules"`
		NextToken string       `json:"nextToken,omitempty"`
	}{Rules: found[start:]}
	if in.MaxResults > 0 && len(out.Rules) > in.MaxResults {
		out.Rules, out.NextToken = out.Rules[:in.MaxResults], strconv.Itoa(start+in.MaxResults)
	}
	if out.Rules == nil {
		out.Rules = []*cacheRule{}
	}
	return jsonAnswer(out)
}

func updateCacheRule(rules map[string]*cacheRule, account string, in cacheRuleRequest) Answer {
	rule, ok := rules[in.EcrRepositoryPrefix]
	if !ok {
		return ruleNotFound(account, in.EcrRepositoryPrefix)
	}
	i := slices.IndexFunc(upstreamRegistries, func(u upstreamRegistry) bool { return u.name == rule.UpstreamRegistry })
	if a, ok := checkCredentials(upstreamRegistries[i], in); !ok {
		return a
	}
	now := epoch(time.Now())
	rule.CredentialArn, rule.CustomRoleArn, rule.UpdatedAt = in.CredentialArn, in.CustomRoleArn, &now
	return jsonAnswer(rule)
}

func ruleNotFound(account, prefix string) Answer {
	return apiError(http.StatusBadRequest, "PullThroughCacheRuleNotFoundException",
		"The pull through cache rule with the ecrRepositoryPrefix '%s' does not exist in the registry with id '%s'", prefix, account)
}

// callerAccount is the account moto puts the caller in (by the access key
// its request is signed with): the registry a request without registryId
// is about, as in ECR.
func callerAccount(req *Request) (string, error) {
	resp, body, err := req.ask(ecrTarget+"DescribeRegistry", []byte("{}"))
	if err != nil {
		return "", err
	}
	var out struct {
		RegistryID string `json:"registryId"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.RegistryID == "" {
		return "", fmt.Errorf("moto's DescribeRegistry answered HTTP %d: %s", resp.StatusCode, body)
	}
	return out.RegistryID, nil
}

// signingRegion is the region of a SigV4 request's credential scope
// (Credential=<key>/<date>/<region>/<service>/aws4_request), as moto reads
// it; us-east-1 when unsigned.
func signingRegion(r *http.Request) string {
	if parts := credentialScope(r); len(parts) > 2 && parts[2] != "" {
		return parts[2]
	}
	return "us-east-1"
}

// credentialScope is a SigV4 request's Credential, split at "/": key,
// date, region, service, "aws4_request"; nil when unsigned.
func credentialScope(r *http.Request) []string {
	_, scope, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return nil
	}
	scope, _, _ = strings.Cut(scope, ",")
	return strings.Split(scope, "/")
}

func invalidParameter(field, value, rule string) Answer {
	return apiError(http.StatusBadRequest, "InvalidParameterException", "Invalid parameter at '%s' failed to satisfy constraint: %q %s", field, value, rule)
}

// apiError is an error of the JSON protocols: HTTP status, __type, message.
func apiError(status int, code, format string, args ...any) Answer {
	body, _ := json.Marshal(map[string]string{"__type": code, "message": fmt.Sprintf(format, args...)})
	return Answer{Status: status, Body: body}
}

func jsonAnswer(v any) Answer {
	body, err := json.Marshal(v)
	if err != nil {
		return apiError(http.StatusInternalServerError, "ServerException", "encoding the answer: %v", err)
	}
	return Answer{Body: body}
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
