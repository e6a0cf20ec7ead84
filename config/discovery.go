package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Values of ScrapeAddress.
const (
	// ScrapePrivate scrapes every node on its private IP.
	ScrapePrivate = "private"
	// ScrapePublic scrapes nodes outside Region on their public IP.
	ScrapePublic = "public"
)

// DiscoveredRegions lists every region Prometheus discovers nodes in: Region
// first (always, listed or not), then DiscoveryRegions in their order.
func (s *Settings) DiscoveredRegions() []string {
	out := []string{s.Region}
	for _, r := range s.DiscoveryRegions {
		if r != s.Region && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// RemoteRegions are the discovered regions other than Region: their nodes
// are outside the stack's VPC, so reaching them is the user's network.
func (s *Settings) RemoteRegions() []string { return s.DiscoveredRegions()[1:] }

// Alertmanager is one alertmanagerUrls entry, taken apart the way
// Prometheus's alerting section wants it.
type Alertmanager struct {
	// Scheme is http or https.
	Scheme string
	// Host is the host name or IP address (IPv6 without brackets).
	Host string
	// Port is the URL's port, or 80/443 from the scheme.
	Port int
	// PathPrefix is the URL's path without the trailing slash ("" for /);
	// Prometheus appends /api/v2/alerts.
	PathPrefix string
}

// Target is host:port, as a static target.
func (a Alertmanager) Target() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// ParseAlertmanagerURL reads an Alertmanager base URL such as
// https://alertmanager.example.com or http://10.1.2.3:9093/am. The error says
// what to change.
func ParseAlertmanagerURL(raw string) (Alertmanager, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "":
		return Alertmanager{}, fmt.Errorf("%q is not an http(s) URL; use one like https://alertmanager.example.com or http://10.1.2.3:9093", raw)
	case u.User != nil:
		return Alertmanager{}, fmt.Errorf("%q carries credentials, which would be stored in plain text in the generated configuration; give the URL without user:password@", raw)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return Alertmanager{}, fmt.Errorf("%q has a query or fragment, which Prometheus cannot send alerts to; give the base URL only", raw)
	}
	a := Alertmanager{Scheme: u.Scheme, Host: u.Hostname(), Port: map[string]int{"http": 80, "https": 443}[u.Scheme],
		PathPrefix: strings.TrimRight(u.Path, "/")}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Alertmanager{}, fmt.Errorf("%q has port %s; use 1 to 65535", raw, p)
		}
		a.Port = n
	}
	if strings.Contains(a.PathPrefix, "/api/v") {
		return Alertmanager{}, fmt.Errorf("%q names an API path; give Alertmanager's base URL (Prometheus appends /api/v2/alerts itself)", raw)
	}
	return a, nil
}

// Alertmanagers are the parsed alertmanagerUrls (validated settings parse).
func (s *Settings) Alertmanagers() []Alertmanager {
	var out []Alertmanager
	for _, raw := range s.AlertmanagerURLs {
		if a, err := ParseAlertmanagerURL(raw); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// partition names the AWS partition of a (well-formed) region: credentials
// and endpoints never cross partitions.
func partition(region string) string {
	switch parts := strings.Split(region, "-"); {
	case parts[0] == "cn":
		return "aws-cn"
	case len(parts) > 1 && parts[1] == "gov":
		return "aws-us-gov"
	case len(parts) > 1 && strings.HasPrefix(parts[1], "iso"):
		return "aws-" + parts[1]
	default:
		return "aws"
	}
}

// discovery checks discoveryRegions and scrapeAddress.
func (v *validator) discovery(s *Settings) {
	seen := map[string]bool{}
	for _, r := range s.DiscoveryRegions {
		switch {
		case !v.checkRegion(s, "discoveryRegions", r, "eu-west-1 (a list such as eu-west-1,us-east-1)"):
		case seen[r]:
			v.fail("discoveryRegions", "%q is listed twice; list each region once", r)
		case regionRE.MatchString(s.Region) && partition(r) != partition(s.Region):
			v.fail("discoveryRegions", "%q is in another AWS partition than region %s, and the task role's credentials work in one partition only; deploy a separate Prometheus there", r, s.Region)
		}
		seen[r] = true
	}
	switch s.ScrapeAddress {
	case ScrapePrivate:
	case ScrapePublic:
		if len(s.RemoteRegions()) == 0 {
			v.fail("scrapeAddress", "public applies to the discoveryRegions besides region %s, and none is listed (nodes in region are always scraped on their private IP); list the other regions in discoveryRegions, or set scrapeAddress=private", s.Region)
		}
	default:
		v.fail("scrapeAddress", "%q is not an address choice; use private or public", s.ScrapeAddress)
	}
}

// alertmanagers checks alertmanagerUrls.
func (v *validator) alertmanagers(s *Settings) {
	seen := map[string]bool{}
	for _, raw := range s.AlertmanagerURLs {
		if a, err := ParseAlertmanagerURL(raw); err != nil {
			v.fail("alertmanagerUrls", "%v", err)
		} else if addr, err := netip.ParseAddr(a.Host); err == nil && !addr.Is4() {
			v.fail("alertmanagerUrls", "%q is an IPv6 address, and the VPC is IPv4 only; use an IPv4 address or a DNS name", raw)
		}
		if seen[raw] {
			v.fail("alertmanagerUrls", "%q is listed twice; every alert would be sent twice to it; list each URL once", raw)
		}
		seen[raw] = true
	}
}
