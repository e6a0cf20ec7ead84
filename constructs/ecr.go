package constructs

import (
	"regexp"
	"slices"

	"github.com/prometheus-aws/prometheus-aws/constructs/imageref"
)

// repositoryURL matches an image in a repository this stack creates:
// ${aws_ecr_repository.<name>.repository_url}[:tag|@digest].
var repositoryURL = regexp.MustCompile(`^\$\{aws_ecr_repository\.([A-Za-z0-9_-]+)\.repository_url\}(?::[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})?$`)

// ECRRepositoryARN is the ARN of the private ECR repository image names
// (a Terraform reference for a repository the stack creates), and false
// when the image is not in ECR (Docker Hub, Quay, ...).
func ECRRepositoryARN(image string) (string, bool) {
	if m := repositoryURL.FindStringSubmatch(image); m != nil {
		return "${aws_ecr_repository." + m[1] + ".arn}", true
	}
	e, ok := imageref.PrivateECR(image)
	if !ok {
		return "", false
	}
	return e.RepositoryARN(), true
}

// ECRPullActions pull an image from a private repository.
var ECRPullActions = []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"}

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
		{Sid: "ECRPull", Effect: "Allow", Action: ECRPullActions, Resource: repos},
	}
}
