package config

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus-aws/prometheus-aws/constructs/defaults"
	"github.com/prometheus-aws/prometheus-aws/constructs/imageref"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/sizing"
)

// Limits that validation enforces, exported so docs and tests quote them.
const (
	MaxNodeCount = 100
	MaxAzCount   = 6
	MaxReplicas  = 4
)

var (
	nameRE         = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	regionRE       = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)
	instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	amiRE          = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
	durationRE     = regexp.MustCompile(`^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$`)
	bucketRE       = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	ipLikeRE       = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$`)
	userRE         = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,64}$`)
	tableRE        = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)
	kmsKeyRE       = regexp.MustCompile(`^arn:aws[a-z-]*:kms:([a-z0-9-]+):[0-9]{12}:key/[a-zA-Z0-9-]+$`)
	acmCertRE      = regexp.MustCompile(`^arn:aws[a-z-]*:acm:([a-z0-9-]+):[0-9]{12}:certificate/[a-zA-Z0-9-]+$`)
	domainRE       = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	zoneIDRE       = regexp.MustCompile(`^[A-Z0-9]{1,32}$`)
	imageRE        = regexp.MustCompile(`^[a-z0-9]+([._/:@-][a-zA-Z0-9_.-]+)*$`)
	emailRE        = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s.]+$`)
	userPoolIDRE   = regexp.MustCompile(`^([a-z0-9-]+)_[0-9a-zA-Z]+$`)
	cognitoPrefRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	secretArnRE    = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$`)
	sgIDRE         = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
	snsTopicRE     = regexp.MustCompile(`^arn:aws[a-z-]*:sns:([a-z0-9-]+):[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
)

// logRetentionDays are the values CloudWatch Logs accepts (0 = never expire).
var logRetentionDays = map[int]bool{0: true, 1: true, 3: true, 5: true, 7: true, 14: true, 30: true, 60: true, 90: true,
	120: true, 150: true, 180: true, 365: true, 400: true, 545: true, 731: true, 1096: true, 1827: true, 2192: true,
	2557: true, 2922: true, 3288: true, 3653: true}

// Validate checks every field and returns all problems at once, each naming
// the setting (context key and environment variable) and how to fix it.
func (s *Settings) Validate() error {
	v := &validator{}

	v.name("project", s.Project, 20)
	v.name("environment", s.Environment, 12)
	regionOK := v.checkRegion(s, "region", s.Region, "eu-central-1")

	vpc, vpcOK := v.cidr("vpcCidr", s.VpcCidr, false)
	if vpcOK && vpc.Addr().Is4() && (vpc.Bits() < 16 || vpc.Bits() > 24) {
		v.fail("vpcCidr", "prefix /%d is outside /16../24; use a range like 10.0.0.0/16", vpc.Bits())
		vpcOK = false // nothing below may compute with it
	}
	if vpcOK && !vpc.Addr().Is4() {
		v.fail("vpcCidr", "%q is not IPv4; use a range like 10.0.0.0/16", s.VpcCidr)
		vpcOK = false
	}
	if s.AzCount < 1 || s.AzCount > MaxAzCount {
		v.fail("azCount", "%d is out of range; use 1 to %d", s.AzCount, MaxAzCount)
	}
	if n := len(s.AvailabilityZones); n > 0 && n != s.AzCount {
		v.fail("availabilityZones", "lists %d zones but azCount is %d; set azCount=%d or list %d zones", n, s.AzCount, n, s.AzCount)
	}
	seen := map[string]bool{}
	for _, az := range s.AvailabilityZones {
		// A zone is its region and one letter; whether the region has that
		// letter is checked at plan (a precondition on the zone list).
		if letter := strings.TrimPrefix(az, s.Region); regionOK && (!strings.HasPrefix(az, s.Region) || len(letter) != 1 || letter < "a" || letter > "z") {
			v.fail("availabilityZones", "%q is not a zone of region %s; use names like %sa", az, s.Region, s.Region)
		}
		if seen[az] {
			v.fail("availabilityZones", "%q is listed twice; list each zone once", az)
		}
		seen[az] = true
	}
	v.subnets(s, vpc, vpcOK)
	v.network(s, vpc, vpcOK)
	v.downloadBase(s.NodeExporterDownloadBase)

	if s.NodeCount < 0 || s.NodeCount > MaxNodeCount {
		v.fail("nodeCount", "%d is out of range; use 0 to %d (raise MaxNodeCount deliberately for more)", s.NodeCount, MaxNodeCount)
	}
	if !instanceTypeRE.MatchString(s.NodeInstanceType) {
		v.fail("nodeInstanceType", "%q is not an EC2 instance type; use one like t3.micro", s.NodeInstanceType)
	}
	if s.NodeAmiID != "" && !amiRE.MatchString(s.NodeAmiID) {
		v.fail("nodeAmiId", "%q is not an AMI id; use ami- and 8 or 17 hex digits, or leave it empty for Amazon Linux 2023", s.NodeAmiID)
	}
	v.port("nodeExporterPort", s.NodeExporterPort)
	v.port("prometheusPort", s.PrometheusPort)
	if s.NodeExporterPort == s.PrometheusPort {
		// One number for two roles: the node security group would admit
		// Prometheus's own web port, and the task's scrapes of itself and of
		// the nodes could not be told apart in its rules.
		v.fail("prometheusPort", "%d is also nodeExporterPort; give Prometheus and node_exporter different ports (defaults 9090 and 9100)", s.PrometheusPort)
	}
	if s.NodeExporterPort == 22 || s.PrometheusPort == 22 {
		v.fail("nodeExporterPort", "port 22 is reserved for SSH; pick another port")
	}
	v.tag(s.DiscoveryTagKey, s.DiscoveryTagValue)
	v.discovery(s)
	v.ecs(s)

	switch {
	case s.SSHKeyName != "" && len(s.SSHCidrs) == 0:
		v.fail("sshCidrs", "sshKeyName is set but no range may reach port 22; set sshCidrs to your admin ranges, or clear sshKeyName")
	case s.SSHKeyName == "" && len(s.SSHCidrs) > 0:
		v.fail("sshKeyName", "sshCidrs is set but SSH is off; set sshKeyName to an EC2 key pair, or clear sshCidrs")
	}
	for _, c := range s.SSHCidrs {
		if p, ok := v.cidr("sshCidrs", c, true); ok && p.Bits() == 0 {
			v.fail("sshCidrs", "%q opens SSH to the whole internet, which is never allowed; list your admin ranges or use Session Manager", c)
		}
	}
	for _, c := range s.AdminCidrs {
		if p, ok := v.cidr("adminCidrs", c, true); ok && p.Bits() == 0 && !s.AllowWorldOpenAdmin {
			v.fail("adminCidrs", "%q opens Prometheus to the whole internet; list your admin ranges, or set allowWorldOpenAdmin=true if you really mean it", c)
		}
	}

	v.tls(s)
	v.sso(s)
	v.plainHTTPAdmin(s, vpc, vpcOK)
	v.kmsKey(s)
	v.alarms(s)

	v.pinnedImage("prometheusImage", s.PrometheusImage, DefaultPrometheusImage)
	v.pinnedImage("alertmanagerImage", s.AlertmanagerImage, DefaultAlertmanagerImage)
	v.pinnedImage("configSyncImage", s.ConfigSyncImage, DefaultConfigSyncImage)
	v.grafana(s)
	v.imageDigests(s)
	v.imageCache(s)
	v.noInternet(s)
	if !userRE.MatchString(s.BasicAuthUser) {
		v.fail("basicAuthUser", "%q must be 1 to 64 letters, digits, dots, dashes or underscores", s.BasicAuthUser)
	} else if s.BasicAuthUser == taskcontract.MachineUser {
		v.fail("basicAuthUser", "%q is the task's own machine user (the self-scrape, the Alertmanager and Grafana sign in as it, with a password of their own); pick another name for people, e.g. %s", s.BasicAuthUser, defaults.BasicAuthUser)
	}
	if s.BasicAuthPasswordVersion < 1 {
		v.fail("basicAuthPasswordVersion", "%d must be 1 or more; increase it by one to rotate the password", s.BasicAuthPasswordVersion)
	}
	if !s.BasicAuth && len(s.AdminCidrs) > 0 && hasWorld(s.AdminCidrs) {
		v.fail("basicAuth", "Prometheus would be open to the whole internet without a password; keep basicAuth=true when adminCidrs is world-open")
	}
	if mem := sizing.FargateMemory(s.TaskCPU); len(mem) == 0 {
		v.fail("taskCpu", "%d is not a Fargate CPU size; use one of %s (1024 = 1 vCPU)", s.TaskCPU, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(sizing.FargateCPUs())), ", "), "[]"))
	} else if !contains(mem, s.TaskMemory) {
		v.fail("taskMemory", "%d MiB does not fit taskCpu=%d; use one of %v", s.TaskMemory, s.TaskCPU, mem)
	}
	if s.ExpectedTargets < 0 {
		v.fail("expectedTargets", "%d is negative; give the number of targets to size the task for, or 0 to use nodeCount", s.ExpectedTargets)
	}
	if !logRetentionDays[s.LogRetentionDays] {
		v.fail("logRetentionDays", "%d is not a CloudWatch retention; use e.g. 7, 14, 30, 90, 365 (0 = never expire)", s.LogRetentionDays)
	}
	v.boundedDuration("scrapeInterval", s.ScrapeInterval)
	v.boundedDuration("refreshInterval", s.RefreshInterval)
	if s.Retention != "" && s.StorageMode != StorageAMP {
		v.boundedDuration("retention", s.Retention)
	}
	v.storage(s)
	v.alertmanagers(s)
	v.alertDelivery(s)

	if s.StateBucket != "" {
		b := s.StateBucket
		if !bucketRE.MatchString(b) || strings.Contains(b, "..") || ipLikeRE.MatchString(b) || strings.HasPrefix(b, "xn--") || strings.HasSuffix(b, "-s3alias") {
			v.fail("stateBucket", "%q is not a valid S3 bucket name; use 3 to 63 lowercase letters, digits, hyphens and dots, starting and ending with a letter or digit", b)
		}
	}
	if s.StateRegion != "" {
		v.checkRegion(s, "stateRegion", s.StateRegion, "eu-central-1 (or leave it empty for region)")
	}
	if s.StateLockTable != "" && !tableRE.MatchString(s.StateLockTable) {
		v.fail("stateLockTable", "%q is not a DynamoDB table name; use 3 to 255 letters, digits, _ . -", s.StateLockTable)
	}
	if (s.StateRegion != "" || s.StateLockTable != "") && s.StateBucket == "" {
		v.fail("stateBucket", "stateRegion/stateLockTable are set but stateBucket is empty; set stateBucket, or clear them")
	}
	if s.StateNoncurrentDays < 1 || s.StateNoncurrentDays > 3650 {
		v.fail("stateNoncurrentDays", "%d is out of range; use 1 to 3650 days", s.StateNoncurrentDays)
	}

	v.ci(s)

	if s.Endpoint != "" {
		u, err := url.Parse(s.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.fail("endpoint", "%q is not an http(s) URL; use one like http://127.0.0.1:5000, or leave it empty for real AWS", s.Endpoint)
		}
	}
	return errors.Join(v.errs...)
}

// IsLoopbackEndpoint reports whether endpoint names a loopback host. Harnesses
// that start emulators refuse anything else.
func IsLoopbackEndpoint(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	addr, err := netip.ParseAddr(u.Hostname())
	return err == nil && addr.IsLoopback()
}

type validator struct{ errs []error }

// pinnedImage refuses an image reference that is not pinned to a tag or
// digest, or floats on :latest.
func (v *validator) pinnedImage(key, image, example string) {
	if !imageRE.MatchString(image) || !(strings.Contains(image, "@sha256:") || strings.Contains(lastPart(image), ":")) {
		v.fail(key, "%q is not a pinned image reference; use repository:tag or repository@sha256:digest, e.g. %s", image, example)
	} else if strings.HasSuffix(image, ":latest") {
		v.fail(key, "%q floats with every release; pin a version tag such as %s", image, example)
	} else if _, digest, ok := strings.Cut(image, "@"); ok && !digestRE.MatchString(digest) {
		v.fail(key, "%q has a malformed digest; write repository:tag@sha256:<64 lowercase hex digits>, e.g. %s@sha256:<digest>", image, example)
	}
}

// digestRE is an image digest as registries write it (OCI image spec,
// descriptor digests): sha256 and 64 lowercase hex digits.
var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// HasDigest reports whether image is pinned by a well-formed digest.
func HasDigest(image string) bool {
	_, digest, ok := strings.Cut(image, "@")
	return ok && digestRE.MatchString(digest)
}

// imageDigests: with requireImageDigests every task image names its
// digest, which no registry can move (a tag can be pushed again).
func (v *validator) imageDigests(s *Settings) {
	if !s.RequireImageDigests {
		return
	}
	for _, key := range slices.Sorted(maps.Keys(s.TaskImages())) {
		if image := s.TaskImages()[key]; !HasDigest(image) {
			v.fail(key, "%q is not pinned by digest and requireImageDigests=true; append its digest (repository:tag@sha256:<digest>, as docker buildx imagetools inspect or crane digest print it), or set requireImageDigests=false", image)
		}
	}
}

// privateRanges are the address ranges no internet route reaches: RFC 1918,
// RFC 6598 shared address space (100.64.0.0/10, used by carrier NAT and
// VPN overlays such as Tailscale) and IPv6 unique local addresses (RFC
// 4193, fc00::/7).
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("fc00::/7"),
}

// PrivateRange reports whether every address of cidr is in a private
// range (privateRanges).
func PrivateRange(cidr string) bool {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return false
	}
	p = p.Masked()
	for _, q := range privateRanges {
		if q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// plainHTTPAdmin: without the load balancer the task serves Prometheus,
// the Alertmanager and Grafana over plain HTTP to adminCidrs, and basic
// auth sends the password with every request. Inside the VPC that is the
// VPC's traffic; outside it only a private network (a VPN) may be trusted
// with it, and only by the explicit opt-in; the internet never.
func (v *validator) plainHTTPAdmin(s *Settings, vpc netip.Prefix, vpcOK bool) {
	if s.TLS() {
		if s.AllowPlainHTTPAdmin {
			v.fail("allowPlainHttpAdmin", "the HTTPS load balancer serves adminCidrs, so nothing is plain HTTP and the opt-in does nothing; clear it")
		}
		return
	}
	var outside, public []string
	for _, c := range s.AdminCidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil || p.Masked() != p {
			continue // v.cidr reports it
		}
		if vpcOK && p.Addr().Is4() && p.Bits() >= vpc.Bits() && vpc.Contains(p.Addr()) {
			continue // inside the VPC
		}
		outside = append(outside, c)
		if !PrivateRange(c) {
			public = append(public, c)
		}
	}
	const tls = "serve them through the HTTPS load balancer (set tlsCertificateArn, or tlsDomain with tlsZoneId)"
	switch {
	case len(public) > 0:
		v.fail("adminCidrs", "%s would reach Prometheus and the Alertmanager over plain HTTP from the internet, the basic-auth password (which can also silence every alert) in clear; %s. allowPlainHttpAdmin does not change this: it admits private ranges only", strings.Join(public, ","), tls)
	case len(outside) > 0 && !s.AllowPlainHTTPAdmin:
		v.fail("adminCidrs", "%s lie outside vpcCidr %s and would reach Prometheus and the Alertmanager over plain HTTP, the basic-auth password in clear; %s, or, if they are a private network reached over a VPN, set allowPlainHttpAdmin=true (PROMAWS_ALLOW_PLAIN_HTTP_ADMIN)", strings.Join(outside, ","), s.VpcCidr, tls)
	}
}

// alertDelivery checks the settings of the bundled and the AMP alert
// delivery: a port of its own, sane timing, and a topic to send to.
func (v *validator) alertDelivery(s *Settings) {
	v.port("alertmanagerPort", s.AlertmanagerPort)
	for key, port := range map[string]int{"prometheusPort": s.PrometheusPort, "nodeExporterPort": s.NodeExporterPort} {
		if s.AlertmanagerPort == port {
			v.fail("alertmanagerPort", "%d is also %s; give the Alertmanager a port of its own (default 9093)", port, key)
		}
	}
	if s.AlertmanagerPort == 22 {
		v.fail("alertmanagerPort", "port 22 is reserved for SSH; pick another port")
	}
	v.boundedDuration("alertGroupWait", s.AlertGroupWait)
	v.boundedDuration("alertGroupInterval", s.AlertGroupInterval)
	v.boundedDuration("alertRepeatInterval", s.AlertRepeatInterval)
	interval, ok1 := ParseDuration(s.AlertGroupInterval)
	repeat, ok2 := ParseDuration(s.AlertRepeatInterval)
	if ok1 && ok2 && repeat < interval {
		// Alertmanager repeats only on a group's flush, every group interval.
		v.fail("alertRepeatInterval", "%s is shorter than alertGroupInterval (%s), and a group is only sent every alertGroupInterval; use at least %s", s.AlertRepeatInterval, s.AlertGroupInterval, s.AlertGroupInterval)
	}
	if s.AlertDelivery() != AlertDeliveryExternal && !s.Alarms {
		v.fail("alarms", "alarms=false leaves out the alarm topic, which the %s alert delivery sends to, so no alert would reach anyone; keep alarms=true (alarmEmail or alarmTopicArn choose who hears), or name your own Alertmanagers in alertmanagerUrls", s.AlertDelivery())
	}
}

// fail records a problem with the named setting.
func (v *validator) fail(key, format string, args ...any) {
	f, _ := FieldByKey(key)
	v.errs = append(v.errs, fmt.Errorf("%s (%s): %s", key, f.Env(), fmt.Sprintf(format, args...)))
}

func (v *validator) name(key, val string, max int) {
	if !nameRE.MatchString(val) || len(val) > max {
		v.fail(key, "%q must be 1 to %d lowercase letters, digits and single hyphens, starting with a letter (AWS names are built from it)", val, max)
	}
}

func (v *validator) port(key string, p int) {
	if p < 1 || p > 65535 {
		v.fail(key, "%d is not a TCP port; use 1 to 65535", p)
	}
}

func (v *validator) tag(key, val string) {
	switch {
	case strings.TrimSpace(key) == "":
		v.fail("discoveryTagKey", "is empty; Prometheus would have no tag to filter on; use e.g. prometheus:scrape")
	case strings.HasPrefix(strings.ToLower(key), "aws:"):
		v.fail("discoveryTagKey", "%q uses the reserved aws: prefix; pick another key", key)
	case len(key) > 128:
		v.fail("discoveryTagKey", "is %d characters; EC2 tag keys hold at most 128", len(key))
	}
	switch {
	case strings.TrimSpace(val) == "":
		v.fail("discoveryTagValue", "is empty; use e.g. true")
	case len(val) > 256:
		v.fail("discoveryTagValue", "is %d characters; EC2 tag values hold at most 256", len(val))
	}
}

// cidr parses a network range; host bits must be zero so the intent is clear.
func (v *validator) cidr(key, val string, allowV6 bool) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(val)
	if err != nil {
		v.fail(key, "%q is not a CIDR range; write it like 10.0.0.0/16", val)
		return p, false
	}
	if p.Masked() != p {
		v.fail(key, "%q has host bits set; did you mean %s?", val, p.Masked())
		return p, false
	}
	if !allowV6 && !p.Addr().Is4() {
		v.fail(key, "%q is IPv6; use an IPv4 range", val)
		return p, false
	}
	return p, true
}

// subnets checks explicit subnet ranges, or that the VPC has room for the
// derived /24s.
func (v *validator) subnets(s *Settings, vpc netip.Prefix, vpcOK bool) {
	if len(s.SubnetCidrs) == 0 {
		if vpcOK && s.AzCount >= 1 && s.AzCount <= MaxAzCount && 1<<(24-vpc.Bits()) < s.AzCount {
			v.fail("vpcCidr", "%s has room for %d /24 subnets but azCount is %d; widen vpcCidr or set subnetCidrs", s.VpcCidr, 1<<(24-vpc.Bits()), s.AzCount)
		}
		return
	}
	if len(s.SubnetCidrs) != s.AzCount {
		v.fail("subnetCidrs", "lists %d ranges but azCount is %d; give one range per zone", len(s.SubnetCidrs), s.AzCount)
	}
	v.subnetRanges("subnetCidrs", s.SubnetCidrs, nil, vpc, vpcOK, s.VpcCidr)
}

// subnetRanges checks ranges of one kind: each a subnet AWS can create,
// inside the VPC, overlapping neither another nor any of taken.
func (v *validator) subnetRanges(key string, cidrs []string, taken []netip.Prefix, vpc netip.Prefix, vpcOK bool, vpcCidr string) {
	for _, c := range cidrs {
		p, ok := v.cidr(key, c, false)
		if !ok {
			continue
		}
		if p.Bits() > 28 {
			v.fail(key, "%q is smaller than /28, the smallest AWS subnet", c)
		}
		if vpcOK && (!vpc.Contains(p.Addr()) || p.Bits() < vpc.Bits()) {
			v.fail(key, "%q lies outside vpcCidr %s; pick ranges inside it", c, vpcCidr)
		}
		for _, q := range taken {
			if q.Overlaps(p) {
				v.fail(key, "%q overlaps %q; subnets must not overlap", c, q.String())
			}
		}
		taken = append(taken, p)
	}
}

// network checks the private network's settings, and that they are not
// given for the public one, where they would do nothing.
func (v *validator) network(s *Settings, vpc netip.Prefix, vpcOK bool) {
	switch s.NetworkMode {
	case NetworkPublic, NetworkPrivate:
	default:
		v.fail("networkMode", "%q is not a network mode; use public or private", s.NetworkMode)
		return
	}
	if s.NatGateways != NatSingle && s.NatGateways != NatPerZone && s.NatGateways != NatNone {
		v.fail("natGateways", "%q is not a NAT layout; use single, perZone or none", s.NatGateways)
	}
	for i, e := range s.VpcEndpoints {
		if !slices.Contains(VpcEndpointNames, e) {
			v.fail("vpcEndpoints", "%q is not an endpoint this stack knows; use some of %s", e, strings.Join(VpcEndpointNames, ", "))
		}
		if slices.Contains(s.VpcEndpoints[:i], e) {
			v.fail("vpcEndpoints", "%q is listed twice; list each endpoint once", e)
		}
	}
	if !s.Private() {
		for key, set := range map[string]bool{"natGateways": s.NatGateways != NatSingle, "privateSubnetCidrs": len(s.PrivateSubnetCidrs) > 0,
			"vpcEndpoints": strings.Join(s.VpcEndpoints, ",") != DefaultVpcEndpoints} {
			if set {
				v.fail(key, "shapes the private network, but networkMode is public; set networkMode=private, or clear it")
			}
		}
		return
	}
	// The private subnets: given, or /24s after the public ones.
	if len(s.PrivateSubnetCidrs) == 0 {
		if vpcOK && len(s.SubnetCidrs) == 0 && s.AzCount >= 1 && s.AzCount <= MaxAzCount && 1<<(24-vpc.Bits()) < 2*s.AzCount {
			v.fail("vpcCidr", "%s has room for %d /24 subnets but networkMode=private needs %d (a public and a private one per zone); widen vpcCidr or set subnetCidrs and privateSubnetCidrs", s.VpcCidr, 1<<(24-vpc.Bits()), 2*s.AzCount)
		}
		if len(s.SubnetCidrs) > 0 {
			v.fail("privateSubnetCidrs", "subnetCidrs are given, so the private ranges cannot be carved safely; list privateSubnetCidrs too, one per zone")
		}
		return
	}
	if len(s.PrivateSubnetCidrs) != s.AzCount {
		v.fail("privateSubnetCidrs", "lists %d ranges but azCount is %d; give one range per zone", len(s.PrivateSubnetCidrs), s.AzCount)
	}
	var public []netip.Prefix
	for _, c := range s.SubnetCidrs {
		if p, err := netip.ParsePrefix(c); err == nil {
			public = append(public, p)
		}
	}
	if len(s.SubnetCidrs) == 0 && vpcOK {
		// The public subnets the Network construct carves: consecutive
		// /24s from the start of the VPC (constructs.NetworkProps).
		public = derivedSubnets(vpc, s.AzCount)
	}
	v.subnetRanges("privateSubnetCidrs", s.PrivateSubnetCidrs, public, vpc, vpcOK, s.VpcCidr)
}

// downloadBase checks the nodes' release mirror: https with a host, or an
// S3 bucket (and prefix), nothing a shell line could misread.
func (v *validator) downloadBase(base string) {
	if base == "" {
		return
	}
	const key = "nodeExporterDownloadBase"
	if strings.ContainsAny(base, "\"'$`\\ \n") {
		v.fail(key, "%q holds quotes, spaces or shell characters; use a plain https:// or s3:// base", base)
		return
	}
	if rest, ok := strings.CutPrefix(base, "s3://"); ok {
		bucket, _, _ := strings.Cut(rest, "/")
		if !bucketRE.MatchString(bucket) || strings.Contains(bucket, "..") {
			v.fail(key, "%q does not name an S3 bucket; use s3://<bucket>/<prefix>", base)
		}
		return
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" {
		v.fail(key, "%q is not an https:// base URL (or s3://bucket/prefix); e.g. https://mirror.example.com/node_exporter", base)
	}
}

// imageCache: with the pull-through cache every image not in private ECR
// must be on a registry the cache reaches without credentials.
func (v *validator) imageCache(s *Settings) {
	if !s.ImageCache() {
		return
	}
	why := "pullThroughCache=true"
	if !s.PullThroughCache {
		why = "natGateways=none (no registry but ECR is reachable)"
	}
	for _, key := range slices.Sorted(maps.Keys(s.TaskImages())) {
		image := s.TaskImages()[key]
		if _, private := imageref.PrivateECR(image); private {
			continue
		}
		if _, _, err := imageref.Cached(image); err != nil {
			v.fail(key, "with %s: %v", why, err)
		}
	}
}

// noInternet: natGateways=none leaves the private subnets no way out but
// the VPC endpoints, so everything the task and the nodes reach must be
// behind one.
func (v *validator) noInternet(s *Settings) {
	if !s.Private() || s.NatGateways != NatNone {
		return
	}
	need := map[string]string{"s3": "image layers (ECR stores them in S3) and the nodes' node_exporter copy",
		"logs": "the task's logs", "ssm": "the configuration (config-sync)", "ec2": "EC2 discovery"}
	if s.BasicAuth || s.Grafana {
		need["secretsmanager"] = "the generated passwords"
	}
	if s.AlertDelivery() == AlertDeliveryBundled {
		need["sns"] = "alert delivery"
	}
	if s.StorageMode == StorageAMP {
		need["aps"] = "remote write to the workspace"
	}
	for _, e := range slices.Sorted(maps.Keys(need)) {
		if !slices.Contains(s.Endpoints(), e) {
			v.fail("vpcEndpoints", "natGateways=none: %s reach AWS through the %s endpoint alone; add %s to vpcEndpoints", need[e], e, e)
		}
	}
	if slices.ContainsFunc(s.DiscoveryRegions, func(r string) bool { return r != s.Region }) {
		v.fail("discoveryRegions", "natGateways=none: the EC2 endpoint serves %s alone, so other regions cannot be discovered; clear discoveryRegions or keep a NAT gateway", s.Region)
	}
	if s.NodeCount > 0 && !strings.HasPrefix(s.NodeExporterDownloadBase, "s3://") {
		v.fail("nodeExporterDownloadBase", "natGateways=none: the nodes cannot reach GitHub's releases; copy v<version>/node_exporter-<version>.linux-<arch>.tar.gz to S3 and set nodeExporterDownloadBase=s3://<bucket>/<prefix> (reached through the s3 endpoint)")
	}
}

func hasWorld(cidrs []string) bool {
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil && p.Bits() == 0 {
			return true
		}
	}
	return false
}

func lastPart(image string) string {
	return image[strings.LastIndex(image, "/")+1:]
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// tls checks the load balancer settings: one certificate source, a
// reachable balancer, and the two zones an ALB needs.
func (v *validator) tls(s *Settings) {
	if s.TLSCertificateArn != "" {
		if m := acmCertRE.FindStringSubmatch(s.TLSCertificateArn); m == nil {
			v.fail("tlsCertificateArn", "%q is not an ACM certificate ARN; use arn:aws:acm:%s:<account>:certificate/<id>", s.TLSCertificateArn, s.Region)
		} else if m[1] != s.Region {
			v.fail("tlsCertificateArn", "the certificate is in %s but the load balancer is in %s; request or import the certificate in %s", m[1], s.Region, s.Region)
		}
		if s.TLSDomain != "" || s.TLSZoneID != "" {
			v.fail("tlsCertificateArn", "set either tlsCertificateArn (your certificate) or tlsDomain with tlsZoneId (a certificate created for you), not both")
		}
	}
	switch {
	case s.TLSDomain != "" && s.TLSZoneID == "":
		v.fail("tlsZoneId", "tlsDomain is set but tlsZoneId is empty; set the Route 53 hosted zone id that holds %s", s.TLSDomain)
	case s.TLSDomain == "" && s.TLSZoneID != "" && s.TLSCertificateArn == "":
		v.fail("tlsDomain", "tlsZoneId is set but tlsDomain is empty; set the domain name for Prometheus, or clear tlsZoneId")
	}
	if s.TLSDomain != "" && (!domainRE.MatchString(s.TLSDomain) || len(s.TLSDomain) > 253) {
		v.fail("tlsDomain", "%q is not a DNS name; use one like prometheus.example.com (lowercase)", s.TLSDomain)
	}
	if s.TLSZoneID != "" && !zoneIDRE.MatchString(s.TLSZoneID) {
		v.fail("tlsZoneId", "%q is not a Route 53 hosted zone id; use the id (like Z0123456789ABCDEFGHIJ), not the zone name", s.TLSZoneID)
	}
	if !s.TLS() {
		return
	}
	if len(s.AdminCidrs) == 0 {
		v.fail("adminCidrs", "the HTTPS load balancer would admit nobody; set adminCidrs to the ranges that may reach it")
	}
	if s.AzCount < 2 {
		v.fail("azCount", "an Application Load Balancer needs subnets in at least 2 availability zones; set azCount=2 or more")
	}
}

// kmsKey checks the customer key: a key ARN (CloudWatch Logs takes no
// alias) in the deployment's region (a key serves its own region only).
func (v *validator) kmsKey(s *Settings) {
	if s.KmsKeyArn == "" {
		return
	}
	m := kmsKeyRE.FindStringSubmatch(s.KmsKeyArn)
	switch {
	case m == nil && strings.Contains(s.KmsKeyArn, ":alias/"):
		v.fail("kmsKeyArn", "%q is an alias; CloudWatch Logs needs the key ARN (arn:aws:kms:%s:<account>:key/<id>)", s.KmsKeyArn, s.Region)
	case m == nil:
		v.fail("kmsKeyArn", "%q is not a KMS key ARN; use arn:aws:kms:%s:<account>:key/<id>", s.KmsKeyArn, s.Region)
	case m[1] != s.Region:
		v.fail("kmsKeyArn", "the key is in %s but the deployment is in %s; use a key (or a multi-Region replica) in %s", m[1], s.Region, s.Region)
	}
	// AMP user guide, "Giving Amazon Managed Service for Prometheus
	// permission to send alert messages to your Amazon SNS topic": an SSE
	// topic needs the key policy to admit aps.amazonaws.com. The stack
	// cannot read a key policy, so the operator says it is done.
	if s.StorageMode == StorageAMP && s.AlarmTopicArn == "" && s.AlertDelivery() != AlertDeliveryExternal && !s.KmsKeyAllowsAps {
		v.fail("kmsKeyAllowsAps", "storageMode=amp encrypts the alert topic with kmsKeyArn, and the workspace's alert manager can publish to it only if the key policy lets aps.amazonaws.com use the key; add the statement in docs/alerting.md (\"Encrypted topic\") to the key policy, then set it to true. Without it every alert is dropped")
	}
}

// storage checks the storage mode and the replica count that depends on it.
func (v *validator) storage(s *Settings) {
	if !slices.Contains(StorageModes, s.StorageMode) {
		v.fail("storageMode", "%q is not a storage mode; use one of %s (docs/operations.md, Storage and high availability, compares them)", s.StorageMode, strings.Join(StorageModes, ", "))
		return
	}
	if s.StorageMode == StorageAMP && s.Retention != "" {
		v.workspaceRetention(s.Retention)
	}
	v.efsThroughput(s)
	if !s.ContainerInsights && s.Alarms && s.Replicas > 1 {
		// ECS reports its free metrics for a service only while one of its
		// tasks runs (Amazon ECS Developer Guide, "Amazon ECS CloudWatch
		// metrics"): they tell none running from some, not 1 of 2 from 2.
		v.fail("containerInsights", "false leaves the running-task alarm only AWS/ECS's free metrics, which tell no running task from some but not %d replicas from fewer; keep containerInsights=true with replicas=%d, or set replicas=1", s.Replicas, s.Replicas)
	}
	switch {
	case s.Replicas < 1 || s.Replicas > MaxReplicas:
		v.fail("replicas", "%d is out of range; use 1 to %d", s.Replicas, MaxReplicas)
	case s.Replicas > 1 && s.StorageMode != StorageAMP:
		why := map[string]string{StorageEFS: "EFS holds one writer's TSDB", StorageEphemeral: "each task would keep its own diverging copy"}[s.StorageMode]
		v.fail("replicas", "%d replicas need storageMode=amp, which de-duplicates them (with %s, %s); set storageMode=amp, or replicas=1", s.Replicas, s.StorageMode, why)
	}
}

// efsThroughput checks the file system's throughput mode: one EFS knows,
// the provisioned throughput exactly with provisioned, and neither set
// without EFS to apply to.
func (v *validator) efsThroughput(s *Settings) {
	switch {
	case !slices.Contains(EFSThroughputModes, s.EFSThroughputMode):
		v.fail("efsThroughputMode", "%q is not an EFS throughput mode; use one of %s (docs/cost.md, EFS throughput mode)", s.EFSThroughputMode, strings.Join(EFSThroughputModes, ", "))
	case s.StorageMode != StorageEFS && s.EFSThroughputMode != EFSElastic:
		v.fail("efsThroughputMode", "%s applies to storageMode=efs, but storageMode is %s and creates no file system; clear it, or set storageMode=efs", s.EFSThroughputMode, s.StorageMode)
	case s.EFSThroughputMode == EFSProvisioned && (s.EFSProvisionedMibps < MinEFSProvisionedMibps || s.EFSProvisionedMibps > MaxEFSProvisionedMibps):
		v.fail("efsProvisionedMibps", "%d MiB/s cannot be provisioned; with efsThroughputMode=provisioned give %d to %d MiB/s (the upper limit depends on the region)", s.EFSProvisionedMibps, MinEFSProvisionedMibps, MaxEFSProvisionedMibps)
	case s.EFSThroughputMode != EFSProvisioned && s.EFSProvisionedMibps != 0:
		v.fail("efsProvisionedMibps", "%d MiB/s is provisioned only with efsThroughputMode=provisioned (it is %s); set efsThroughputMode=provisioned, or clear it", s.EFSProvisionedMibps, s.EFSThroughputMode)
	}
}

// workspaceRetention checks retention as the AMP workspace's: whole days
// within AMP's range (MinWorkspaceRetentionDays to
// MaxWorkspaceRetentionDays).
func (v *validator) workspaceRetention(val string) {
	d, ok := ParseDuration(val)
	day := 24 * time.Hour
	switch {
	case !ok:
		v.fail("retention", "%q is not a Prometheus duration; with storageMode=amp it is the workspace's retention in whole days, e.g. 15d or 90d", val)
	case d%day != 0 || d < MinWorkspaceRetentionDays*day || d > MaxWorkspaceRetentionDays*day:
		v.fail("retention", "%s is not a workspace retention: with storageMode=amp the AMP workspace keeps the samples, in whole days from %dd to %dd (AMP's range); use e.g. %s, 90d or %dd",
			val, MinWorkspaceRetentionDays, MaxWorkspaceRetentionDays, DefaultRetention, MaxWorkspaceRetentionDays)
	}
}

// alarms checks the notification settings: an address that looks like one,
// a topic ARN in the deployment's region (alarms and rules notify topics in
// their own region only), and no setting that would be silently ignored.
func (v *validator) alarms(s *Settings) {
	if s.AlarmEmail != "" && !emailRE.MatchString(s.AlarmEmail) {
		v.fail("alarmEmail", "%q is not an email address; use one like ops@example.com", s.AlarmEmail)
	}
	if s.AlarmTopicArn != "" {
		if m := snsTopicRE.FindStringSubmatch(s.AlarmTopicArn); m == nil {
			v.fail("alarmTopicArn", "%q is not an SNS topic ARN; use arn:aws:sns:%s:<account>:<topic>", s.AlarmTopicArn, s.Region)
		} else if m[1] != s.Region {
			v.fail("alarmTopicArn", "the topic is in %s but the alarms are in %s; use a topic in %s", m[1], s.Region, s.Region)
		}
	}
	switch {
	case !s.Alarms && (s.AlarmEmail != "" || s.AlarmTopicArn != ""):
		v.fail("alarms", "alarms=false but alarmEmail or alarmTopicArn is set, and nothing would be sent; set alarms=true, or clear them")
	case s.AlarmEmail != "" && s.AlarmTopicArn != "":
		v.fail("alarmEmail", "alarmEmail subscribes to the topic this stack creates, but alarmTopicArn uses your own topic; subscribe the address to that topic, or clear alarmTopicArn")
	}
}

// CI platforms (ciPlatform).
const (
	CIGitLab = "gitlab"
	CIGitHub = "github"
)

var (
	gitlabProjectRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$`)
	githubRepoRE    = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9_.-]+$`)
	oidcProviderRE  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/[a-z0-9.-]+(/[A-Za-z0-9._/-]*)?$`)
)

// ci checks the CI roles' settings: a trust policy built from a wrong
// project would admit someone else's pipelines.
func (v *validator) ci(s *Settings) {
	switch s.CIPlatform {
	case "":
		if s.CIProject != "" || s.CIOidcProviderArn != "" {
			v.fail("ciPlatform", "is empty but ciProject or ciOidcProviderArn is set; set ciPlatform=gitlab or github, or clear them")
		}
		return
	case CIGitLab:
		if !gitlabProjectRE.MatchString(s.CIProject) {
			v.fail("ciProject", "%q is not a GitLab project path; use group/project (subgroups allowed), exactly as in the project's URL", s.CIProject)
		}
		if u, err := url.Parse(s.CIGitLabURL); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			v.fail("ciGitlabUrl", "%q must be the https URL of your GitLab, without a path, e.g. https://gitlab.example.com", s.CIGitLabURL)
		}
	case CIGitHub:
		if !githubRepoRE.MatchString(s.CIProject) {
			v.fail("ciProject", "%q is not a GitHub repository; use owner/repo", s.CIProject)
		}
	default:
		v.fail("ciPlatform", "%q is not a CI platform; use gitlab or github (or leave it empty)", s.CIPlatform)
		return
	}
	if s.StateBucket == "" {
		v.fail("stateBucket", "ciPlatform=%s needs the S3 state (the CI roles live in the bootstrap stack and read the state); set stateBucket", s.CIPlatform)
	}
	if s.CIOidcProviderArn != "" && !oidcProviderRE.MatchString(s.CIOidcProviderArn) {
		v.fail("ciOidcProviderArn", "%q is not an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/<host>)", s.CIOidcProviderArn)
	}
	if s.CIBranch == "" || strings.ContainsAny(s.CIBranch, "*? ") {
		v.fail("ciBranch", "%q must name one branch, without wildcards: the deploy roles admit exactly it", s.CIBranch)
	}
	if len(s.CIEnvironments) == 0 {
		v.fail("ciEnvironments", "is empty; name the environments the pipelines deploy, e.g. dev,prod")
	}
	for _, e := range s.CIEnvironments {
		v.name("ciEnvironments", e, 12) // as environment: names are built from it
	}
}

// grafana checks Grafana's image and its port, which must be its own.
func (v *validator) grafana(s *Settings) {
	if !s.Grafana {
		return
	}
	v.pinnedImage("grafanaImage", s.GrafanaImage, defaults.GrafanaImage)
	v.port("grafanaPort", s.GrafanaPort)
	for key, port := range map[string]int{"prometheusPort": s.PrometheusPort, "nodeExporterPort": s.NodeExporterPort, "alertmanagerPort": s.AlertmanagerPort, "ssh": 22} {
		if s.GrafanaPort == port {
			v.fail("grafanaPort", "%d is also %s's; give Grafana a port of its own (default %d)", port, key, defaults.GrafanaPort)
		}
	}
}

// derivedSubnets are the first n /24s of vpc.
func derivedSubnets(vpc netip.Prefix, n int) []netip.Prefix {
	var out []netip.Prefix
	a := vpc.Masked().Addr().As4()
	for i := 0; i < n && vpc.Bits() <= 24; i++ {
		b := a
		b[2] += byte(i)
		out = append(out, netip.PrefixFrom(netip.AddrFrom4(b), 24))
	}
	return out
}

// sso checks single sign-on: it needs the HTTPS load balancer (only an
// HTTPS listener can authenticate), no password prompt behind it (people
// would sign in twice), and the settings of exactly the chosen provider.
func (v *validator) sso(s *Settings) {
	if !slices.Contains(SSOModes, s.SSO) {
		v.fail("sso", "%q is not a mode; use off, cognito or oidc", s.SSO)
		return
	}
	cognito := map[string]string{"cognitoUserPoolId": s.CognitoUserPoolID, "cognitoDomain": s.CognitoDomain}
	oidc := map[string]string{"oidcIssuer": s.OIDCIssuer, "oidcAuthorizationEndpoint": s.OIDCAuthorizationEndpoint, "oidcTokenEndpoint": s.OIDCTokenEndpoint,
		"oidcUserInfoEndpoint": s.OIDCUserInfoEndpoint, "oidcClientId": s.OIDCClientID, "oidcClientSecretArn": s.OIDCClientSecretArn}
	for _, keys := range []struct {
		mode string
		set  map[string]string
	}{{SSOCognito, cognito}, {SSOOIDC, oidc}} {
		if s.SSO == keys.mode {
			continue
		}
		for _, key := range slices.Sorted(maps.Keys(keys.set)) {
			if keys.set[key] != "" {
				v.fail(key, "is set but sso=%s; it is read with sso=%s only: set sso=%s, or clear it", s.SSO, keys.mode, keys.mode)
			}
		}
	}
	for _, id := range s.MachineSecurityGroupIDs {
		if !sgIDRE.MatchString(id) {
			v.fail("machineSecurityGroupIds", "%q is not a security group id; use sg- and 8 or 17 hex digits", id)
		}
	}
	if !s.SingleSignOn() {
		return
	}
	if !s.TLS() {
		v.fail("sso", "sso=%s signs people in at the HTTPS load balancer, which is off (only an HTTPS listener can authenticate); set tlsCertificateArn, or tlsDomain with tlsZoneId, and adminCidrs, or set sso=off", s.SSO)
	}
	if s.BasicAuth {
		v.fail("basicAuth", "is on with sso=%s: behind the load balancer's sign-in, Prometheus and the Alertmanager would ask for the shared password again; set basicAuth=false (PROMAWS_BASIC_AUTH=false): the targets then admit the load balancer only (and the machine path, docs/operations.md)", s.SSO)
	}
	if s.SSOSessionTimeout < 1 || s.SSOSessionTimeout > 604800 {
		v.fail("ssoSessionTimeout", "%d is out of range; use 1 to 604800 seconds (7 days; default 28800, 8 h)", s.SSOSessionTimeout)
	}
	switch s.SSO {
	case SSOCognito:
		if s.CognitoUserPoolID != "" {
			if m := userPoolIDRE.FindStringSubmatch(s.CognitoUserPoolID); m == nil {
				v.fail("cognitoUserPoolId", "%q is not a user pool id; use one like %s_AbCdEfGhI", s.CognitoUserPoolID, s.Region)
			} else if m[1] != s.Region {
				v.fail("cognitoUserPoolId", "the pool is in %s but the load balancer is in %s; use a pool in %s (the load balancer signs in with its own region's pools only)", m[1], s.Region, s.Region)
			}
			if s.CognitoDomain == "" {
				v.fail("cognitoDomain", "cognitoUserPoolId is set but cognitoDomain is empty; set the pool's existing domain prefix (a pool has one, so the stack cannot create another)")
			}
		}
		if d := s.CognitoDomainPrefix(); !cognitoPrefRE.MatchString(d) || strings.Contains(d, "aws") || strings.Contains(d, "amazon") || strings.Contains(d, "cognito") {
			v.fail("cognitoDomain", "%q is not a Cognito domain prefix; use up to 63 lowercase letters, digits and hyphens, without aws, amazon or cognito (reserved)", d)
		}
	case SSOOIDC:
		for _, key := range []string{"oidcIssuer", "oidcAuthorizationEndpoint", "oidcTokenEndpoint", "oidcUserInfoEndpoint"} {
			val := oidc[key]
			u, err := url.Parse(val)
			switch {
			case val == "":
				v.fail(key, "sso=oidc needs it; copy it from your provider's /.well-known/openid-configuration")
			case err != nil || u.Scheme != "https" || u.Host == "":
				v.fail(key, "%q is not an https URL; the load balancer accepts https endpoints only (copy it from your provider's /.well-known/openid-configuration)", val)
			}
		}
		if s.OIDCClientID == "" {
			v.fail("oidcClientId", "sso=oidc needs the client id of the application registered at your provider")
		}
		switch m := secretArnRE.FindStringSubmatch(s.OIDCClientSecretArn); {
		case s.OIDCClientSecretArn == "":
			v.fail("oidcClientSecretArn", "sso=oidc needs the ARN of a Secrets Manager secret holding the client secret (never the secret itself); create one with aws secretsmanager create-secret")
		case m == nil:
			v.fail("oidcClientSecretArn", "%q is not a Secrets Manager secret ARN; use arn:aws:secretsmanager:%s:<account>:secret:<name>", s.OIDCClientSecretArn, s.Region)
		case m[1] != s.Region:
			v.fail("oidcClientSecretArn", "the secret is in %s but the stack is in %s; replicate it to %s", m[1], s.Region, s.Region)
		}
		if !slices.Contains(strings.Fields(s.OIDCScope), "openid") {
			v.fail("oidcScope", "%q lacks openid, which OpenID Connect requires; use e.g. \"openid email\"", s.OIDCScope)
		}
	}
}
