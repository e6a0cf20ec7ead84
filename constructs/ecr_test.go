package constructs

import "testing"

func TestECRRepositoryARN(t *testing.T) {
	for image, want := range map[string]string{
		"123456789012.dkr.ecr.eu-central-1.amazonaws.com/prometheus-aws:3.16.0":        "arn:aws:ecr:eu-central-1:123456789012:repository/prometheus-aws",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/prometheus@sha256:" + sha64: "arn:aws:ecr:us-east-1:123456789012:repository/team/prometheus",
		"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/p:1":                    "arn:aws:ecr:us-gov-west-1:123456789012:repository/p",
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/prometheus:v1":               "arn:aws-cn:ecr:cn-north-1:123456789012:repository/prometheus",
		"${aws_ecr_repository.cache_prometheus_0A1B.repository_url}:v3.16.0":           "${aws_ecr_repository.cache_prometheus_0A1B.arn}",
		"prom/prometheus:v3.16.0":               "",
		"quay.io/prometheus/prometheus:v3.16.0": "",
		"public.ecr.aws/bitnami/prometheus:3":   "",
		"123456789012.dkr.ecr.eu-central-1.amazonaws.com.evil.example/prometheus-aws:3.16.0": "",
	} {
		got, ok := ECRRepositoryARN(image)
		if got != want || ok != (want != "") {
			t.Errorf("ECRRepositoryARN(%q) = %q, %v; want %q", image, got, ok, want)
		}
		if (ECRPullStatements(image) != nil) != (want != "") {
			t.Errorf("ECRPullStatements(%q): statements only for private ECR images", image)
		}
	}
}

const sha64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
