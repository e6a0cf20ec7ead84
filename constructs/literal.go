package constructs

import (
	"net/netip"
	"strings"

	"github.com/aws/jsii-runtime-go"
)

// TerraformLiteral escapes text so Terraform takes it verbatim: in
// Terraform JSON every string is a template, and the shell scripts and YAML
// we ship are full of ${...} that must not be read as interpolation.
func TerraformLiteral(s string) string {
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}

// cidrV4 and cidrV6 route a range to the rule attribute of its family, so
// callers can mix IPv4 and IPv6 ranges in one list.
func cidrV4(cidr string) *string {
	if p, err := netip.ParsePrefix(cidr); err == nil && p.Addr().Is4() {
		return jsii.String(cidr)
	}
	return nil
}

func cidrV6(cidr string) *string {
	if p, err := netip.ParsePrefix(cidr); err == nil && p.Addr().Is6() {
		return jsii.String(cidr)
	}
	return nil
}
