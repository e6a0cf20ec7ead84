package policy

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/containerdef"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
)

// Rules on what AWS refuses or breaks but the emulator accepts: moto runs
// no container, evaluates no IAM policy and enforces no size limit, so
// what AWS's documentation says is encoded here.

// ImageVolume is a VOLUME an image declares, with the owner of the image's
// folder there: Fargate copies both into a bind mount at that path.
type ImageVolume struct {
	Path string
	UID  int
}

// officialPrometheus matches the official image (and the images built
// FROM it, such as docker/Dockerfile's, whose names cannot be told).
var officialPrometheus = regexp.MustCompile(`(^|/)prom(etheus)?/prometheus[:@]`)

// OfficialImageVolumes are the official Prometheus image's: VOLUME
// ["/prometheus"], chowned to nobody (its Dockerfile, in the Prometheus
// module; internal/fargate's tests check this against the replica).
var OfficialImageVolumes = []ImageVolume{{Path: taskcontract.StoragePath, UID: taskcontract.UID}}

// officialAlertmanager matches the official Alertmanager image.
var officialAlertmanager = regexp.MustCompile(`(^|/)prom(etheus)?/alertmanager[:@]`)

// OfficialAlertmanagerVolumes are the official Alertmanager image's: VOLUME
// ["/alertmanager"], chowned to nobody (its Dockerfile, in the Alertmanager
// module; internal/fargate's replica is built from it).
var OfficialAlertmanagerVolumes = []ImageVolume{{Path: taskcontract.AlertmanagerStoragePath, UID: taskcontract.UID}}

// imageVolumes are the VOLUMEs the policy knows of image.
func imageVolumes(image string, o Options) []ImageVolume {
	if v, ok := o.ImageVolumes[image]; ok {
		return v
	}
	if officialPrometheus.MatchString(image) {
		return OfficialImageVolumes
	}
	if officialAlertmanager.MatchString(image) {
		return OfficialAlertmanagerVolumes
	}
	return nil
}

// Container writes beyond its writable mount points: each container writes
// its runtime folder and its state (the TSDB; silences and notification
// log).
var containerWrites = map[string][]string{
	taskcontract.ContainerName:             {taskcontract.RuntimeDir, taskcontract.StoragePath},
	taskcontract.AlertmanagerContainerName: {taskcontract.AlertmanagerRuntimeDir, taskcontract.AlertmanagerStoragePath},
}

// containerDef is a container definition as the constructs render it.
type containerDef = containerdef.Container

// taskDefs are the stack's task definitions with their parsed containers.
func taskDefs(d *Doc) (names []string, defs map[string][]containerDef, errs []Violation) {
	defs = map[string][]containerDef{}
	for _, name := range d.Names("aws_ecs_task_definition") {
		cds, err := containerdef.Parse(Str(d.Of("aws_ecs_task_definition")[name]["container_definitions"]))
		if err != nil {
			errs = append(errs, Violation{"fargate-writable-paths", "aws_ecs_task_definition." + name, "container_definitions is not literal JSON, so it cannot be checked: " + err.Error()})
			continue
		}
		names = append(names, name)
		defs[name] = cds
	}
	return names, defs, errs
}

func isRoot(user string) bool {
	u, _, _ := strings.Cut(user, ":")
	return u == "" || u == "0" || u == "root"
}

func under(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// fargateWritablePaths: with a read-only root, a non-root container can
// write only where Fargate gives it a folder it may write: a tmpfs (mode
// 1777 unless a mode= option says otherwise), an EFS volume (the access
// point's user), or a bind mount at a VOLUME its image owns for it. Any
// other bind mount is created empty, root-owned, mode 0755 (ECS developer
// guide, "Use bind mounts with Amazon ECS"), and the first write fails.
func fargateWritablePaths(d *Doc, o Options) []Violation {
	names, defs, out := taskDefs(d)
	for _, name := range names {
		res := "aws_ecs_task_definition." + name
		efs := map[string]bool{}
		for _, v := range asList(d.Of("aws_ecs_task_definition")[name]["volume"]) {
			if Path(v, "efs_volume_configuration") != nil {
				efs[Str(Path(v, "name"))] = true
			}
		}
		for _, c := range defs[name] {
			if !c.ReadonlyRootFilesystem || isRoot(c.User) {
				continue
			}
			uid := -1
			fmt.Sscanf(c.User, "%d", &uid)
			type mount struct {
				at, kind string
				ok       bool
				why      string
			}
			var mounts []mount
			for _, mp := range c.MountPoints {
				m := mount{at: mp.ContainerPath, kind: "bind mount " + mp.SourceVolume}
				switch {
				case mp.ReadOnly:
					m.why = "it is mounted read-only"
				case efs[mp.SourceVolume]:
					m.ok = true
				default:
					for _, v := range imageVolumes(c.Image, o) {
						if path.Clean(v.Path) == path.Clean(mp.ContainerPath) && v.UID == uid {
							m.ok = true
						}
					}
					if !m.ok {
						m.why = fmt.Sprintf("Fargate creates it root-owned with mode 0755 (image %s declares no VOLUME owned by %s there)", c.Image, c.User)
					}
				}
				mounts = append(mounts, m)
			}
			if lp := c.LinuxParameters; lp != nil {
				for _, tf := range lp.Tmpfs {
					m := mount{at: tf.ContainerPath, kind: "tmpfs", ok: true}
					for _, opt := range tf.MountOptions {
						if strings.HasPrefix(opt, "mode=") && !strings.HasSuffix(opt, "777") || opt == "ro" {
							m.ok, m.why = false, "its options ("+opt+") keep other users out"
						}
					}
					mounts = append(mounts, m)
				}
			}
			writes := append([]string{}, containerWrites[c.Name]...)
			for _, mp := range c.MountPoints {
				if !mp.ReadOnly {
					writes = append(writes, mp.ContainerPath)
				}
			}
			for _, w := range writes {
				// The deepest mount holding w decides.
				var best *mount
				for i := range mounts {
					if under(w, mounts[i].at) && (best == nil || len(mounts[i].at) > len(best.at)) {
						best = &mounts[i]
					}
				}
				switch {
				case best == nil:
					out = append(out, Violation{"fargate-writable-paths", res, fmt.Sprintf("container %s (user %s) writes %s, but its root filesystem is read-only and no volume or tmpfs is mounted there", c.Name, c.User, w)})
				case !best.ok:
					out = append(out, Violation{"fargate-writable-paths", res, fmt.Sprintf("container %s (user %s) writes %s on %s at %s, which it cannot write: %s; use a linuxParameters tmpfs or a volume it owns", c.Name, c.User, w, best.kind, best.at, best.why)})
				}
			}
		}
	}
	return out
}

func asList(v any) []any {
	switch t := v.(type) {
	case []any:
		return t
	case map[string]any:
		return []any{t}
	}
	return nil
}

// roleOf is the logical name of the aws_iam_role a reference points at.
var roleRef = regexp.MustCompile(`\$\{aws_iam_role\.([^.}]+)\.`)

func roleOf(ref string) string {
	if m := roleRef.FindStringSubmatch(ref); m != nil {
		return m[1]
	}
	return ""
}

type statement struct {
	Effect   string `json:"Effect"`
	Action   any    `json:"Action"`
	Resource any    `json:"Resource"`
}

// roleStatements are the statements of every inline policy on a role.
func roleStatements(d *Doc, role string) []statement {
	var out []statement
	for _, name := range d.Names("aws_iam_role_policy") {
		p := d.Of("aws_iam_role_policy")[name]
		if roleOf(Str(p["role"])) != role {
			continue
		}
		var doc struct {
			Statement []statement `json:"Statement"`
		}
		if json.Unmarshal([]byte(Str(p["policy"])), &doc) == nil {
			out = append(out, doc.Statement...)
		}
	}
	return out
}

// allows reports whether an Allow statement grants action on resource
// (exact names; "*" resources).
func allows(sts []statement, action, resource string) bool {
	for _, st := range sts {
		if st.Effect != "Allow" || !slices.Contains(Strings(st.Action), action) {
			continue
		}
		for _, r := range Strings(st.Resource) {
			if r == "*" || r == resource {
				return true
			}
		}
	}
	return false
}

// executionTask is one task definition with its containers and the
// statements of its execution role.
type executionTask struct {
	res        string
	containers []containerDef
	sts        []statement
}

// executionTasks lists the stack's task definitions with what their
// execution roles allow.
func executionTasks(d *Doc) []executionTask {
	names, defs, _ := taskDefs(d)
	var out []executionTask
	for _, name := range names {
		role := roleOf(Str(d.Of("aws_ecs_task_definition")[name]["execution_role_arn"]))
		out = append(out, executionTask{res: "aws_ecs_task_definition." + name, containers: defs[name], sts: roleStatements(d, role)})
	}
	return out
}

// ecrPullExactly: a task whose image is in a private ECR repository can
// only start if its execution role may pull from exactly that repository
// (ECR user guide, "Using Amazon ECR images with Amazon ECS"); and a task
// whose images are elsewhere gets no ECR permission at all.
func ecrPullExactly(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, task := range executionTasks(d) {
		res, sts := task.res, task.sts
		want := map[string]bool{}
		for _, c := range task.containers {
			repo, ok := constructs.ECRRepositoryARN(c.Image)
			if !ok {
				continue
			}
			want[repo] = true
			if !allows(sts, "ecr:GetAuthorizationToken", "*") {
				out = append(out, Violation{"ecr-pull-exactly", res, fmt.Sprintf("image %s is in ECR, but the execution role may not call ecr:GetAuthorizationToken: the pull is refused", c.Image)})
			}
			actions := constructs.ECRPullActions
			if pullThrough(d, repo) {
				// The first pull imports the image from upstream.
				actions = append(slices.Clone(actions), "ecr:BatchImportUpstreamImage")
			}
			for _, a := range actions {
				if !allows(sts, a, repo) {
					out = append(out, Violation{"ecr-pull-exactly", res, fmt.Sprintf("image %s is in ECR, but the execution role lacks %s on %s: the pull is refused", c.Image, a, repo)})
				}
			}
		}
		for _, st := range sts {
			for _, a := range Strings(st.Action) {
				if !strings.HasPrefix(a, "ecr:") || a == "ecr:GetAuthorizationToken" && len(want) > 0 {
					continue
				}
				for _, r := range Strings(st.Resource) {
					if !want[r] {
						out = append(out, Violation{"ecr-pull-exactly", res, fmt.Sprintf("the execution role grants %s on %s, which no container image needs", a, r)})
					}
				}
			}
		}
	}
	return out
}

// pullThrough reports whether repo (an aws_ecr_repository's arn
// reference) is filled by one of the stack's pull-through cache rules: its
// name begins with a rule's prefix.
func pullThrough(d *Doc, repo string) bool {
	name, ok := strings.CutPrefix(repo, "${aws_ecr_repository.")
	if !ok {
		return false
	}
	name, _, _ = strings.Cut(name, ".")
	repoName := Str(d.Of("aws_ecr_repository")[name]["name"])
	for _, rule := range d.Of("aws_ecr_pull_through_cache_rule") {
		if p := Str(rule["ecr_repository_prefix"]); p != "" && strings.HasPrefix(repoName, p+"/") {
			return true
		}
	}
	return false
}

// executionRoleReadsSecrets: ECS reads every container secret with the
// task's execution role; one it may not read stops the task before it
// starts ("unable to pull secrets or registry auth").
func executionRoleReadsSecrets(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, task := range executionTasks(d) {
		res, sts := task.res, task.sts
		for _, c := range task.containers {
			for _, s := range c.Secrets {
				action, resource := "ssm:GetParameters", s.ValueFrom
				if strings.Contains(s.ValueFrom, "aws_secretsmanager_secret.") || strings.Contains(s.ValueFrom, ":secretsmanager:") {
					// The ARN without the :json-key:stage:version suffix.
					action = "secretsmanager:GetSecretValue"
					if i := strings.Index(resource, "}:"); i >= 0 && strings.HasPrefix(resource, "${") {
						resource = resource[:i+1]
					}
				}
				if !allows(sts, action, resource) {
					out = append(out, Violation{"execution-role-reads-secrets", res, fmt.Sprintf("container %s reads secret %s from %s, but the execution role may not (%s): the task would not start", c.Name, s.Name, s.ValueFrom, action)})
				}
			}
		}
	}
	return out
}

var paramNameRef = regexp.MustCompile(`\$\{aws_ssm_parameter\.([^.}]+)\.name\}`)

// configSyncReadsExactly: the config-sync sidecar reads its parameters with
// the task role, which every container of the task holds; it must be able
// to read each one (or no change would arrive, and the first sync never
// completes), and nothing else of SSM, each by its ARN.
func configSyncReadsExactly(d *Doc, _ Options) []Violation {
	var out []Violation
	names, defs, _ := taskDefs(d)
	for _, name := range names {
		res := "aws_ecs_task_definition." + name
		role := roleOf(Str(d.Of("aws_ecs_task_definition")[name]["task_role_arn"]))
		sts := roleStatements(d, role)
		want := map[string]bool{}
		for _, c := range defs[name] {
			if c.Name != taskcontract.ConfigSyncContainerName {
				continue
			}
			for _, m := range paramNameRef.FindAllStringSubmatch(c.Env(taskcontract.EnvConfigSyncFiles), -1) {
				arn := "${aws_ssm_parameter." + m[1] + ".arn}"
				want[arn] = true
				if !allows(sts, "ssm:GetParameters", arn) || !allows(sts, "ssm:GetParameter", arn) {
					out = append(out, Violation{"config-sync-reads-exactly", res, fmt.Sprintf("config-sync keeps aws_ssm_parameter.%s, but the task role may not read it (ssm:GetParameters and ssm:GetParameter on its ARN)", m[1])})
				}
			}
		}
		for _, st := range sts {
			if st.Effect != "Allow" || !slices.ContainsFunc(Strings(st.Action), func(a string) bool { return strings.HasPrefix(strings.ToLower(a), "ssm:getparameter") }) {
				continue
			}
			for _, r := range Strings(st.Resource) {
				switch {
				case strings.Contains(r, "*"):
					out = append(out, Violation{"config-sync-reads-exactly", res, fmt.Sprintf("the task role may read SSM parameters %q; name each parameter's ARN", r)})
				case !want[r]:
					out = append(out, Violation{"config-sync-reads-exactly", res, fmt.Sprintf("the task role may read %s, which config-sync does not keep", r)})
				}
			}
		}
	}
	return out
}

// SSM's value limits per tier (Systems Manager user guide, "Managing
// parameter tiers"), the same numbers the construct sizes the tier with.
var ssmLimits = map[string]int{"": constructs.SSMStandardLimit, "Standard": constructs.SSMStandardLimit,
	"Advanced": constructs.SSMAdvancedLimit, "Intelligent-Tiering": constructs.SSMAdvancedLimit}

// ssmValueFitsTier: a parameter value larger than its tier allows is
// refused by SSM at apply time (the emulator stores it). Terraform's
// escapes ($${, %%{) count as the one character they stand for.
func ssmValueFitsTier(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, name := range d.Names("aws_ssm_parameter") {
		p := d.Of("aws_ssm_parameter")[name]
		value := Str(p["insecure_value"])
		if value == "" {
			value = Str(p["value"])
		}
		size := len(strings.NewReplacer("$${", "${", "%%{", "%{").Replace(value))
		tier := Str(p["tier"])
		limit, ok := ssmLimits[tier]
		if !ok {
			out = append(out, Violation{"ssm-value-fits-tier", "aws_ssm_parameter." + name, fmt.Sprintf("unknown tier %q", tier)})
			continue
		}
		if size > limit {
			out = append(out, Violation{"ssm-value-fits-tier", "aws_ssm_parameter." + name, fmt.Sprintf("the value is %d bytes, over the %d the %s tier holds", size, limit, strings.TrimSpace(tier+" (default Standard)"))})
		}
	}
	return out
}

// TaskDefinitionLimit is ECS's quota on a task definition's size (64 KiB,
// "Amazon ECS service quotas").
const TaskDefinitionLimit = 64 * 1024

const taskDefinitionRest = 2048

func taskDefinitionSize(d *Doc, _ Options) []Violation {
	var out []Violation
	for _, name := range d.Names("aws_ecs_task_definition") {
		cd := Str(d.Of("aws_ecs_task_definition")[name]["container_definitions"])
		// The rest of the definition (family, volumes, roles) takes well
		// under taskDefinitionRest.
		if n := len(strings.NewReplacer("$${", "${", "%%{", "%{").Replace(cd)); n > TaskDefinitionLimit-taskDefinitionRest {
			out = append(out, Violation{"task-definition-size", "aws_ecs_task_definition." + name, fmt.Sprintf("container_definitions is %d bytes; ECS refuses task definitions over %d bytes, and the rest of the definition needs about %d", n, TaskDefinitionLimit, taskDefinitionRest)})
		}
	}
	return out
}
