package constructs

import (
	"regexp"
	"slices"
)

// ecrImage matches a private Amazon ECR image reference:
// <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]/<repository>[:tag|@digest].
var ecrImage = regexp.MustCompile(`^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([a-z0-9][a-z0-9._/-]*?)(?::[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})?$`)

// ECRRepositoryARN is the ARN of the private ECR repository image names,
// and false when the image is not in ECR (Docker Hub, Quay, ...).
func ECRRepositoryARN(image string) (string, bool) {
	m := ecrImage.FindStringSubmatch(image)
	if m == nil {
		return "", false
	}
	partition := "aws"
	if m[3] != "" {
		partition = "aws-cn"
	}
	return "arn:" + partition + ":ecr:" + m[2] + ":" + m[1] + ":repository/" + m[4], true
}

// ECRPullStatements are what the execution role needs to pull images from
// private ECR, on exactly their repositories (ECR user guide, "Using Amazon ECR
// images with Amazon ECS"; the AmazonECSTaskExecutionRolePolicy actions),
// or nil when none is in ECR. GetAuthorizationToken supports no
// resource-level permission, hence "*".
func ECRPullStatements(images ...string) []Statement {
	var repos []string
	for _, image := range images {
		if repo, ok := ECRRepositoryARN(image); ok && !slices.Contains(repos, repo) {
			repos = append(repos, repo)
		}
	}
	if len(repos) == 0 {
		return nil
	}
	return []Statement{
		{Sid: "ECRToken", Effect: "Allow", Action: []string{"ecr:GetAuthorizationToken"}, Resource: []string{"*"}},
		{Sid: "ECRPull", Effect: "Allow", Action: []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"}, Resource: repos},
	}
}
