package stacks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/policy"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

// taskStatements returns the task role's statements by Sid.
func taskStatements(t *testing.T, d *policy.Doc) map[string]map[string]any {
	t.Helper()
	name, _ := findRole(t, d, "prometheus-task")
	out := map[string]map[string]any{}
	for _, st := range rolePolicy(t, d, name)["Statement"].([]any) {
		m := st.(map[string]any)
		out[policy.Str(m["Sid"])] = m
	}
	return out
}

// dataVolume is the task definition's TSDB volume.
func dataVolume(t *testing.T, d *policy.Doc) map[string]any {
	t.Helper()
	_, task := one(t, d, "aws_ecs_task_definition")
	vols, _ := task["volume"].([]any)
	for _, v := range vols {
		if m := v.(map[string]any); m["name"] == "data" {
			return m
		}
	}
	t.Fatalf("no data volume in %v", task["volume"])
	return nil
}

// The other storage modes (the default is efs).
var (
	ephemeral = declare("ephemeral", env{"PROMAWS_STORAGE_MODE": "ephemeral"})
	amp       = declare("amp", env{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_REPLICAS": "2", "PROMAWS_ENVIRONMENT": "prod"})
	// The EFS throughput modes besides the default elastic.
	efsBursting    = declare("efs-bursting", env{"PROMAWS_EFS_THROUGHPUT_MODE": "bursting"})
	efsProvisioned = declare("efs-provisioned", env{"PROMAWS_EFS_THROUGHPUT_MODE": "provisioned", "PROMAWS_EFS_PROVISIONED_MIBPS": "8"})
	// amp with your own Alertmanagers: the task evaluates the rules (a
	// server with a 1d TSDB), the workspace keeps retention.
	ampOwnAlertmanagers = declare("amp-own-alertmanagers", env{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_ALERTMANAGER_URLS": "https://am.example.com", "PROMAWS_RETENTION": "90d"})
)

func TestStorageModes(t *testing.T) {
	t.Run("efs (default): encrypted, one writer through the access point", func(t *testing.T) {
		// Encryption at rest and in transit: policy rule encrypted-volumes,
		// for every variant. The file system's make-up (its access point's
		// user and mode, backups, the TLS-only policy): constructs'
		// TestEFSStorageDefaults.
		d := byDefault.doc(t)
		fsName, _ := one(t, d, "aws_efs_file_system")
		apName, _ := withAttr(t, d, "aws_efs_access_point", "root_directory.path", "/prometheus")
		if n := len(d.Of("aws_efs_mount_target")); n != byDefault.settings(t).AzCount {
			t.Errorf("%d mount targets, want one per subnet (%d)", n, byDefault.settings(t).AzCount)
		}
		efs := policy.Path(dataVolume(t, d), "efs_volume_configuration")
		if policy.Str(policy.Path(efs, "file_system_id")) != policy.Ref("aws_efs_file_system", fsName, "id") ||
			policy.Str(policy.Path(efs, "authorization_config", "access_point_id")) != policy.Ref("aws_efs_access_point", apName, "id") ||
			policy.Str(policy.Path(efs, "authorization_config", "iam")) != "ENABLED" {
			t.Errorf("data volume must mount the access point with IAM: %v", efs)
		}
		st := taskStatements(t, d)["TSDBOnEFS"]
		if strings.Join(policy.Strings(st["Action"]), ",") != "elasticfilesystem:ClientMount,elasticfilesystem:ClientWrite" ||
			policy.Strings(st["Resource"])[0] != policy.Ref("aws_efs_file_system", fsName, "arn") ||
			!strings.Contains(mustJSON(t, st["Condition"]), policy.Ref("aws_efs_access_point", apName, "arn")) {
			t.Errorf("task role EFS statement must be mount+write on this file system via the access point: %v", st)
		}
		_, svc := one(t, d, "aws_ecs_service")
		if policy.Num(svc["desired_count"]) != 1 || policy.Num(svc["deployment_minimum_healthy_percent"]) != 0 || policy.Num(svc["deployment_maximum_percent"]) != 100 {
			t.Errorf("EFS needs a single writer: desired 1, deployments 0/100; got %v %v/%v", svc["desired_count"], svc["deployment_minimum_healthy_percent"], svc["deployment_maximum_percent"])
		}
		if !strings.Contains(mustJSON(t, svc["depends_on"]), "aws_efs_mount_target.") {
			t.Error("the service must wait for the mount targets")
		}
		// NFS reaches the mount targets from the Prometheus group only.
		var nfs []map[string]any
		for _, r := range d.Of("aws_vpc_security_group_ingress_rule") {
			if policy.Num(r["from_port"]) == 2049 {
				nfs = append(nfs, r)
			}
		}
		if len(nfs) != 1 || !strings.Contains(policy.Str(nfs[0]["referenced_security_group_id"]), "prometheus_sg") || nfs[0]["cidr_ipv4"] != nil {
			t.Errorf("NFS ingress must reference the Prometheus security group, once: %v", nfs)
		}
		// The AWS profile keeps what the local one leaves out (below).
		_, backup := one(t, d, "aws_efs_backup_policy")
		_, fsPolicy := one(t, d, "aws_efs_file_system_policy")
		if backup["count"] != nil || fsPolicy["count"] != nil {
			t.Errorf("the AWS profile keeps the backups and the file system policy: %v %v", backup["count"], fsPolicy["count"])
		}
		if len(d.Of("aws_prometheus_workspace")) != 0 || strings.Contains(configValue(t, d), "remote_write") {
			t.Error("efs mode writes to no workspace")
		}
	})

	t.Run("efs throughput modes: elastic by default, bursting, provisioned", func(t *testing.T) {
		for _, c := range []struct {
			v     *variant
			mode  string
			mibps float64
		}{{byDefault, "elastic", 0}, {efsBursting, "bursting", 0}, {efsProvisioned, "provisioned", 8}} {
			_, fs := one(t, c.v.doc(t), "aws_efs_file_system")
			if fs["throughput_mode"] != c.mode || policy.Num(fs["provisioned_throughput_in_mibps"]) != c.mibps {
				t.Errorf("%s: throughput_mode %v, provisioned %v MiB/s; want %s, %v", c.v.name, fs["throughput_mode"], fs["provisioned_throughput_in_mibps"], c.mode, c.mibps)
			}
		}
	})

	t.Run("efs with a customer key, against the emulator", func(t *testing.T) {
		d := tlsDomainLocal.doc(t)
		_, fs := one(t, d, "aws_efs_file_system")
		if fs["kms_key_id"] != testKey {
			t.Errorf("file system key %v, want %s", fs["kms_key_id"], testKey)
		}
		_, backup := one(t, d, "aws_efs_backup_policy")
		_, fsPolicy := one(t, d, "aws_efs_file_system_policy")
		if policy.Num(backup["count"]) != 0 || policy.Num(fsPolicy["count"]) != 0 {
			t.Error("moto has no PutBackupPolicy nor DeleteFileSystemPolicy: the local profile must leave both out")
		}
	})

	t.Run("amp: workspace, signed remote write, scoped IAM, replicas", func(t *testing.T) {
		d := amp.doc(t)
		wsName, _ := one(t, d, "aws_prometheus_workspace")
		cfg := configValue(t, d)
		wantURL := promconfig.AMPRemoteWriteURL("eu-central-1", policy.Ref("aws_prometheus_workspace", wsName, "id"))
		for _, want := range []string{"remote_write:\n  - url: " + wantURL, "sigv4:\n      region: eu-central-1",
			"cluster: prometheus-aws-prod", "__replica__: $${PROMETHEUS_REPLICA}"} {
			if !strings.Contains(cfg, want) {
				t.Errorf("config lacks %q:\n%s", want, cfg)
			}
		}
		st := taskStatements(t, d)["RemoteWrite"]
		if strings.Join(policy.Strings(st["Action"]), ",") != "aps:RemoteWrite" ||
			strings.Join(policy.Strings(st["Resource"]), ",") != policy.Ref("aws_prometheus_workspace", wsName, "arn") {
			t.Errorf("task role must grant aps:RemoteWrite on the workspace ARN only: %v", st)
		}
		_, svc := one(t, d, "aws_ecs_service")
		if policy.Num(svc["desired_count"]) != 2 || policy.Num(svc["deployment_minimum_healthy_percent"]) != 50 {
			t.Errorf("two replicas, replaced one at a time: %v %v", svc["desired_count"], svc["deployment_minimum_healthy_percent"])
		}
		if len(d.Of("aws_efs_file_system")) != 0 || policy.Path(dataVolume(t, d), "efs_volume_configuration") != nil {
			t.Error("amp mode mounts no EFS")
		}
	})

	t.Run("amp: Prometheus in agent mode, the workspace keeps retention", func(t *testing.T) {
		d := amp.doc(t)
		// Agent mode: the task's one extra flag is --agent (the entrypoint
		// then keeps the agent's WAL in the data volume); no TSDB flag,
		// which Prometheus refuses in agent mode.
		if cmd := containerCommand(t, d); !strings.HasSuffix(cmd, " "+taskcontract.FlagAgent) || strings.Contains(cmd, " --storage.tsdb.") {
			t.Errorf("amp: the Prometheus container's flags must be --agent and no TSDB flag: ...%s", cmd[strings.LastIndex(cmd, " "):])
		}
		for _, key := range []string{"rule_files:", "alerting:", "remote_read:"} {
			if strings.Contains(configValue(t, d), "\n"+key) {
				t.Errorf("amp: the configuration has %s, which agent mode refuses", key)
			}
		}
		wsName, _ := one(t, d, "aws_prometheus_workspace")
		_, cfg := one(t, d, "aws_prometheus_workspace_configuration")
		if cfg["workspace_id"] != policy.Ref("aws_prometheus_workspace", wsName, "id") || policy.Num(cfg["retention_period_in_days"]) != 15 {
			t.Errorf("amp: the workspace must keep retention (15d by default) as its configuration's retention_period_in_days: %v", cfg)
		}
	})

	t.Run("amp with your own Alertmanagers: a server with 1d, the workspace keeps retention", func(t *testing.T) {
		d := ampOwnAlertmanagers.doc(t)
		if cmd := containerCommand(t, d); !strings.HasSuffix(cmd, " "+taskcontract.FlagRetention+"1d") || strings.Contains(cmd, taskcontract.FlagAgent) {
			t.Errorf("amp with alertmanagerUrls evaluates the rules in the task: a server keeping 1d, got ...%s", cmd[strings.LastIndex(cmd, " "):])
		}
		if _, cfg := one(t, d, "aws_prometheus_workspace_configuration"); policy.Num(cfg["retention_period_in_days"]) != 90 {
			t.Errorf("retention=90d: the workspace must keep 90 days: %v", cfg)
		}
	})

	t.Run("no workspace configuration without a workspace", func(t *testing.T) {
		for _, v := range []*variant{byDefault, ephemeral} {
			if n := len(v.doc(t).Of("aws_prometheus_workspace_configuration")); n != 0 {
				t.Errorf("%s: %d workspace configurations, want none", v.name, n)
			}
		}
	})

	t.Run("ephemeral: task storage only", func(t *testing.T) {
		d := ephemeral.doc(t)
		if len(d.Of("aws_efs_file_system")) != 0 || len(d.Of("aws_prometheus_workspace")) != 0 {
			t.Error("ephemeral mode creates no storage resources")
		}
		if v := dataVolume(t, d); len(v) != 1 {
			t.Errorf("data volume must be task storage: %v", v)
		}
		if !strings.Contains(containerCommand(t, d), "--storage.tsdb.retention.time=15d") {
			t.Error("default local retention is 15d")
		}
	})
}

func configValue(t *testing.T, d *policy.Doc) string {
	t.Helper()
	_, param := configParam(t, d)
	return policy.Str(param["insecure_value"])
}

func containerCommand(t *testing.T, d *policy.Doc) string {
	t.Helper()
	_, task := one(t, d, "aws_ecs_task_definition")
	var defs []struct {
		Command []string `json:"command"`
	}
	if err := json.Unmarshal([]byte(policy.Str(task["container_definitions"])), &defs); err != nil || len(defs) == 0 {
		t.Fatalf("container definitions: %v", err)
	}
	return strings.Join(defs[0].Command[1:], " ")
}
