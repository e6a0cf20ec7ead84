// Package imageref reads container image references the way Docker and
// ECS do, and says which registry an image comes from: private ECR, or an
// upstream registry Amazon ECR's pull-through cache reaches without
// credentials. Pure Go, so settings validation, the constructs and the
// policy share it.
package imageref

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Ref is a parsed image reference.
type Ref struct {
	// Registry is the host: docker.io when the reference names none.
	Registry string
	// Repository is the path in the registry (library/<name> for Docker
	// Hub's official images).
	Repository string
	// Tag and Digest pin the image (either or both may be empty).
	Tag, Digest string
}

// Parse splits an image reference as Docker does: the first path element
// is a registry when it holds a "." or ":" or is localhost.
func Parse(image string) (Ref, error) {
	var r Ref
	rest := image
	if i := strings.Index(rest, "@"); i >= 0 {
		rest, r.Digest = rest[:i], rest[i+1:]
	}
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		rest, r.Tag = rest[:i], rest[i+1:]
	}
	first, path, hasPath := strings.Cut(rest, "/")
	switch {
	case hasPath && (strings.ContainsAny(first, ".:") || first == "localhost"):
		r.Registry, r.Repository = first, path
	case hasPath:
		r.Registry, r.Repository = "docker.io", rest
	default:
		r.Registry, r.Repository = "docker.io", "library/"+rest
	}
	if r.Repository == "" || strings.HasSuffix(r.Repository, "/") {
		return Ref{}, fmt.Errorf("image %q names no repository", image)
	}
	return r, nil
}

// Version is the reference's pin as written after the repository:
// ":tag", "@digest" or both.
func (r Ref) Version() string {
	v := ""
	if r.Tag != "" {
		v = ":" + r.Tag
	}
	if r.Digest != "" {
		v += "@" + r.Digest
	}
	return v
}

// privateECR matches a private Amazon ECR registry host:
// <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn].
var privateECR = regexp.MustCompile(`^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// ECR is where a private ECR image lives.
type ECR struct {
	Account, Region, Partition, Repository string
}

// RepositoryARN is the repository's ARN.
func (e ECR) RepositoryARN() string {
	return "arn:" + e.Partition + ":ecr:" + e.Region + ":" + e.Account + ":repository/" + e.Repository
}

// PrivateECR says where image lives when it is in a private ECR registry.
func PrivateECR(image string) (ECR, bool) {
	r, err := Parse(image)
	if err != nil {
		return ECR{}, false
	}
	m := privateECR.FindStringSubmatch(r.Registry)
	if m == nil {
		return ECR{}, false
	}
	partition := "aws"
	if m[3] != "" {
		partition = "aws-cn"
	}
	return ECR{Account: m[1], Region: m[2], Partition: partition, Repository: r.Repository}, true
}

// Upstream is a registry ECR's pull-through cache reaches without
// credentials (ECR user guide, "Sync an upstream registry with an Amazon
// ECR private registry": Amazon ECR Public, the Kubernetes registry and
// Quay; Docker Hub and the others need a Secrets Manager secret).
type Upstream struct {
	// Name is ECR's name of the registry and the last element of the
	// rule's repository prefix.
	Name string
	// URL is the rule's upstream_registry_url.
	URL string
}

// Upstreams are the registries a cache rule may name without credentials.
var Upstreams = []Upstream{
	{Name: "quay", URL: "quay.io"},
	{Name: "ecr-public", URL: "public.ecr.aws"},
	{Name: "k8s", URL: "registry.k8s.io"},
}

// sameRelease names the Docker Hub repositories whose releases are also
// published, identical, on a registry the cache reaches: the Prometheus
// project pushes every image to Docker Hub (prom/*) and Quay
// (quay.io/prometheus/*).
var sameRelease = map[string]string{"prom/": "quay.io/prometheus/"}

// Cached is how image is pulled through a cache rule: the upstream
// registry and the repository path there. Docker Hub images are refused
// (the cache reaches Docker Hub only with credentials) unless the same
// release is published on a reachable registry.
func Cached(image string) (Upstream, string, error) {
	r, err := Parse(image)
	if err != nil {
		return Upstream{}, "", err
	}
	if r.Registry == "docker.io" {
		for hub, other := range sameRelease {
			if rest, ok := strings.CutPrefix(r.Repository, hub); ok {
				r.Registry, r.Repository, _ = strings.Cut(other+rest, "/")
			}
		}
	}
	for _, u := range Upstreams {
		if r.Registry == u.URL {
			return u, r.Repository, nil
		}
	}
	names := make([]string, len(Upstreams))
	for i, u := range Upstreams {
		names[i] = u.URL
	}
	return Upstream{}, "", fmt.Errorf("image %q is on %s, which ECR's pull-through cache reaches only with credentials; use an image on %s, or copy it into a private ECR repository and name that", image, r.Registry, strings.Join(names, ", "))
}

// MaxRulePrefix is the longest repository prefix a pull-through cache rule
// takes (CreatePullThroughCacheRule, ecrRepositoryPrefix: 2 to 30).
const MaxRulePrefix = 30

// RulePrefix is the repository prefix of owner's cache rule for u:
// <owner>/<u.Name>, or, when that is longer than ECR allows, owner cut
// short with a hash of the whole (distinct owners stay distinct).
func RulePrefix(owner string, u Upstream) string {
	p := owner + "/" + u.Name
	if len(p) <= MaxRulePrefix {
		return p
	}
	sum := sha256.Sum256([]byte(owner))
	h := hex.EncodeToString(sum[:4])
	keep := MaxRulePrefix - len(u.Name) - len(h) - 2
	return strings.TrimRight(owner[:keep], "-._") + "-" + h + "/" + u.Name
}
