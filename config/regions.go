package config

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Regions are the AWS regions this version knows, with their partitions
// (AWS general reference, "AWS Regions", December 2026): every commercial
// region, AWS GovCloud (US) and China. A region newer than this list
// passes with allowUnknownRegions=true.
var Regions = []string{
	// Commercial (aws).
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	// AWS GovCloud (US) (aws-us-gov) and China (aws-cn).
	"us-gov-east-1", "us-gov-west-1", "cn-north-1", "cn-northwest-1",
}

// knownRegion reports whether r is in Regions.
func knownRegion(r string) bool {
	for _, k := range Regions {
		if k == r {
			return true
		}
	}
	return false
}

// checkRegion fails key unless r is a known region (or unknown regions are
// allowed and r has a region's shape), suggesting the nearest known one.
func (v *validator) checkRegion(s *Settings, key, r, example string) bool {
	switch {
	case !regionRE.MatchString(r):
		v.fail(key, "%q is not an AWS region name; use one like %s", r, example)
		return false
	case knownRegion(r) || s.AllowUnknownRegions:
		return true
	}
	hint := ""
	if near := nearest(r, Regions); near != "" {
		hint = fmt.Sprintf("did you mean %s? ", near)
	}
	v.fail(key, "%q is not an AWS region this version knows; %sfor a region newer than this list set allowUnknownRegions=true (PROMAWS_ALLOW_UNKNOWN_REGIONS)", r, hint)
	return false
}

// nearest is the candidate closest to s by edit distance (at most a third
// of its length, and 3), or "".
func nearest(s string, candidates []string) string {
	best, bestD := "", 4
	if limit := len(s)/3 + 1; limit < bestD {
		bestD = limit
	}
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if d < bestD || d == bestD && best != "" && c < best {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is Levenshtein's distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}

// ParseDuration reads a Prometheus duration (1y2w3d4h5m6s7ms; y = 365d,
// w = 7d), as the settings write them.
func ParseDuration(s string) (time.Duration, bool) {
	if s == "" || !durationRE.MatchString(s) {
		return 0, false
	}
	units := []struct {
		suffix string
		d      time.Duration
	}{{"ms", time.Millisecond}, {"y", 365 * 24 * time.Hour}, {"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour},
		{"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		n := 0
		for _, c := range rest[:i] {
			n = n*10 + int(c-'0')
			if n > 1e9 {
				return 0, false
			}
		}
		rest = rest[i:]
		matched := false
		for _, u := range units {
			if strings.HasPrefix(rest, u.suffix) {
				total += time.Duration(n) * u.d
				rest, matched = rest[len(u.suffix):], true
				break
			}
		}
		if !matched || total < 0 {
			return 0, false
		}
	}
	return total, true
}

// durationBounds are the sane ranges of the duration settings, with why.
var durationBounds = map[string]struct {
	min, max time.Duration
	why      string
}{
	"scrapeInterval":  {time.Second, time.Hour, "Prometheus turns 0 into 1m; beyond an hour series go stale between scrapes"},
	"refreshInterval": {time.Second, 24 * time.Hour, "EC2 discovery builds a ticker from it (0 panics in Prometheus); every refresh is a DescribeInstances call"},
	"retention":       {2 * time.Hour, 100 * 365 * 24 * time.Hour, "Prometheus keeps at least one 2h block"},
	// Alertmanager accepts any positive duration; beyond these a person
	// hears of an alert too late, or far too often.
	"alertGroupWait":      {time.Second, time.Hour, "the first message of a group waits this long"},
	"alertGroupInterval":  {time.Second, 24 * time.Hour, "changes to a group wait this long"},
	"alertRepeatInterval": {time.Minute, 30 * 24 * time.Hour, "a firing alert is repeated this often"},
}

// boundedDuration checks a duration setting's form and range.
func (v *validator) boundedDuration(key, val string) {
	d, ok := ParseDuration(val)
	if !ok {
		v.fail(key, "%q is not a Prometheus duration; use one like 30s, 5m or 15d", val)
		return
	}
	b := durationBounds[key]
	if d < b.min || d > b.max {
		v.fail(key, "%s is outside %s to %s (%s); use one like %s", val, promDuration(b.min), promDuration(b.max), b.why, func() string {
			f, _ := FieldByKey(key)
			if f.Default != "" {
				return f.Default
			}
			return "15d"
		}())
	}
}

// promDuration writes d the way the settings do (2h, 100y, 1s).
func promDuration(d time.Duration) string {
	for _, u := range []struct {
		suffix string
		d      time.Duration
	}{{"y", 365 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if d >= u.d && d%u.d == 0 {
			return fmt.Sprintf("%d%s", d/u.d, u.suffix)
		}
	}
	return d.String()
}

// sortedStrings returns the keys of m, sorted.
func sortedStrings(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
