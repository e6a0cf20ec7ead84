package constructs_test

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	pconstructs "github.com/prometheus-aws/prometheus-aws/constructs"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

// Given the required props, when synthesized, then an encrypted elastic
// file system with a mount target per subnet, an access point that makes
// every client the task user in the TSDB folder, a policy refusing
// unencrypted transport, and daily backups.
func TestEFSStorageDefaults(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		pconstructs.NewEFSStorage(s, "efs", &pconstructs.EFSStorageProps{Name: "p", VpcId: vpcID, SubnetIds: subnetIDs})
	})
	if fs := only(t, d, "aws_efs_file_system"); fs["encrypted"] != true || fs["throughput_mode"] != "elastic" || fs["kms_key_id"] != nil {
		t.Errorf("file system %v", fs)
	}
	if n := count(d, "aws_efs_mount_target"); n != 2 {
		t.Errorf("%d mount targets, want one per subnet", n)
	}
	ap := only(t, d, "aws_efs_access_point")
	if policy.Path(ap, "posix_user", "uid") != float64(taskcontract.UID) || policy.Path(ap, "posix_user", "gid") != float64(taskcontract.GID) ||
		policy.Path(ap, "root_directory", "path") != taskcontract.StoragePath || policy.Path(ap, "root_directory", "creation_info", "permissions") != "0750" {
		t.Errorf("access point %v: the task user in %s, a private folder (0750)", ap, taskcontract.StoragePath)
	}
	if p := policy.Str(only(t, d, "aws_efs_file_system_policy")["policy"]); !strings.Contains(p, "DenyUnencryptedTransport") ||
		!strings.Contains(p, `"Effect":"Deny"`) || !strings.Contains(p, `"aws:SecureTransport":"false"`) {
		t.Errorf("file system policy must deny access without TLS: %s", p)
	}
	if b := only(t, d, "aws_efs_backup_policy"); policy.Path(b, "backup_policy", "status") != "ENABLED" {
		t.Errorf("backup %v", b)
	}
}

// Given BackupOff and another owner, when synthesized, then no backup
// policy and the access point acts as that owner.
func TestEFSStorageOptions(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		pconstructs.NewEFSStorage(s, "efs", &pconstructs.EFSStorageProps{Name: "p", VpcId: vpcID, SubnetIds: subnetIDs, BackupOff: true, Uid: 1000, Gid: 1000, Path: "/tsdb"})
	})
	ap := only(t, d, "aws_efs_access_point")
	if count(d, "aws_efs_backup_policy") != 0 || policy.Path(ap, "posix_user", "uid") != 1000.0 || policy.Path(ap, "root_directory", "path") != "/tsdb" {
		t.Errorf("backups %d, access point %v", count(d, "aws_efs_backup_policy"), ap)
	}
}

// Given a name and region, when synthesized, then one workspace under
// that alias; without them the construct names both.
func TestAMPWorkspace(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		pconstructs.NewAMPWorkspace(s, "amp", &pconstructs.AMPWorkspaceProps{Name: "p", Region: "eu-central-1"})
	})
	if w := only(t, d, "aws_prometheus_workspace"); w["alias"] != "p" {
		t.Errorf("workspace %v", w)
	}
	refused(t, func(s cdktf.TerraformStack) { pconstructs.NewAMPWorkspace(s, "amp", &pconstructs.AMPWorkspaceProps{}) }, "Name", "Region")
	refused(t, func(s cdktf.TerraformStack) {
		pconstructs.NewEFSStorage(s, "efs", &pconstructs.EFSStorageProps{Name: "p"})
	}, "VpcId", "SubnetIds")
}

// Given a bucket name and a retention of old versions, when synthesized,
// then a versioned, encrypted, private, TLS-only bucket that terraform
// destroy refuses, expiring old versions after that many days, and no lock
// table unless named.
func TestStateBucket(t *testing.T) {
	d := given(t, func(s cdktf.TerraformStack) {
		pconstructs.NewStateBucket(s, "state", &pconstructs.StateBucketProps{BucketName: "b", NoncurrentDays: 90})
	})
	if b := only(t, d, "aws_s3_bucket"); policy.Path(b, "lifecycle", "prevent_destroy") != true {
		t.Errorf("bucket %v must be protected from destroy", b)
	}
	if v := only(t, d, "aws_s3_bucket_versioning"); policy.Path(v, "versioning_configuration", "status") != "Enabled" {
		t.Errorf("versioning %v", v)
	}
	pab := only(t, d, "aws_s3_bucket_public_access_block")
	for _, k := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
		if pab[k] != true {
			t.Errorf("public access block %s = %v", k, pab[k])
		}
	}
	if enc := only(t, d, "aws_s3_bucket_server_side_encryption_configuration"); policy.Path(enc, "rule", "apply_server_side_encryption_by_default", "sse_algorithm") == nil {
		t.Errorf("default encryption %v", enc)
	}
	if p := policy.Str(only(t, d, "aws_s3_bucket_policy")["policy"]); !strings.Contains(p, "DenyInsecureTransport") ||
		!strings.Contains(p, `"Effect":"Deny"`) || !strings.Contains(p, `"aws:SecureTransport":"false"`) {
		t.Errorf("bucket policy must deny access without TLS: %s", p)
	}
	if days := policy.Path(only(t, d, "aws_s3_bucket_lifecycle_configuration"), "rule", "noncurrent_version_expiration", "noncurrent_days"); days != 90.0 {
		t.Errorf("old versions kept %v days, want 90", days)
	}
	if count(d, "aws_dynamodb_table") != 0 {
		t.Error("no lock table unless LockTableName")
	}
	refused(t, func(s cdktf.TerraformStack) {
		pconstructs.NewStateBucket(s, "state", &pconstructs.StateBucketProps{BucketName: "b"})
	}, "NoncurrentDays")
}
