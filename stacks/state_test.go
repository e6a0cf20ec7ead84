package stacks

import (
	"testing"

	"github.com/prometheus-aws/prometheus-aws/policy"
)

var (
	// Remote state with S3-native locking. Alarms off: alerts then go to
	// your own Alertmanagers (the bundled delivery needs the alarm topic).
	remote = declare("remote", env{"PROMAWS_STATE_BUCKET": "acme-prometheus-tfstate", "PROMAWS_ENVIRONMENT": "prod",
		"PROMAWS_ALARMS": "false", "PROMAWS_ALERTMANAGER_URLS": "https://am.example.com"})
	// A DynamoDB lock table (Terraform < 1.10), against the emulator.
	remoteDDB = declare("remote-ddb", env{"PROMAWS_STATE_BUCKET": "acme-prometheus-tfstate", "PROMAWS_STATE_LOCK_TABLE": "tf-locks",
		"PROMAWS_ENDPOINT": "http://127.0.0.1:5000", "PROMAWS_BASIC_AUTH": "false"})
)

func TestLocalBackendByDefault(t *testing.T) {
	path := policy.Str(policy.Path(byDefault.doc(t).Raw, "terraform", "backend", "local", "path"))
	if path != "../../../terraform.prometheus-aws-dev.tfstate" {
		t.Errorf("local state must live in the project root, relative to the stack folder, got %q", path)
	}
	if byDefault.synth(t).bootstrap != nil {
		t.Error("no bootstrap stack without a state bucket")
	}
}

func TestS3BackendWithNativeLocking(t *testing.T) {
	s3 := policy.Path(remote.doc(t).Raw, "terraform", "backend", "s3")
	want := map[string]any{"bucket": "acme-prometheus-tfstate", "key": "prometheus-aws/prod/terraform.tfstate", "encrypt": true, "use_lockfile": true, "region": "eu-central-1"}
	for k, v := range want {
		if got := policy.Path(s3, k); got != v {
			t.Errorf("backend.s3.%s = %v, want %v", k, got, v)
		}
	}
	if policy.Path(s3, "dynamodb_table") != nil || policy.Path(s3, "endpoints") != nil {
		t.Errorf("no DynamoDB table or endpoints unless asked: %v", s3)
	}
	if policy.Path(remote.doc(t).Raw, "terraform", "backend", "local") != nil {
		t.Error("remote state must replace the local backend")
	}
	ddb := policy.Path(remoteDDB.doc(t).Raw, "terraform", "backend", "s3")
	if policy.Path(ddb, "use_lockfile") != nil || policy.Path(remoteDDB.doc(t).Raw, "terraform", "required_version") != ">= 1.5" {
		t.Errorf("the DynamoDB opt-in is for Terraform < 1.10, which rejects use_lockfile: %v", ddb)
	}
	if policy.Path(remote.doc(t).Raw, "terraform", "required_version") != ">= 1.11" {
		t.Error("write-only secrets need Terraform >= 1.11 (S3-native locking >= 1.10)")
	}
	if policy.Path(ddb, "dynamodb_table") != "tf-locks" || policy.Path(ddb, "use_path_style") != true || policy.Path(ddb, "endpoints", "s3") != "http://127.0.0.1:5000" {
		t.Errorf("opt-in lock table and local-profile endpoints: %v", ddb)
	}
}

// TestStateBucketIsProtected: make bootstrap builds the state bucket from
// the settings (its name, destroy refused unless stateBucketAllowDestroy,
// old versions kept stateNoncurrentDays, a lock table only when named),
// keeps its own state local, and against the emulator leaves out the
// TLS-only bucket policy alone (moto gap). What the bucket is made of
// (versioning, default encryption, public access blocked, the TLS-only
// policy) is the construct's: constructs' TestStateBucket checks it, once.
func TestStateBucketIsProtected(t *testing.T) {
	b := remote.bootstrap(t)
	_, bucket := one(t, b, "aws_s3_bucket")
	if bucket["bucket"] != "acme-prometheus-tfstate" || policy.Path(bucket, "lifecycle", "prevent_destroy") != true {
		t.Errorf("bucket must be named as configured and protected from destroy: %v", bucket)
	}
	if policy.Path(b.Raw, "terraform", "backend", "local", "path") != "../../../terraform.prometheus-aws-state.tfstate" {
		t.Errorf("bootstrap state stays local: %v", policy.Path(b.Raw, "terraform", "backend"))
	}
	_, lc := one(t, b, "aws_s3_bucket_lifecycle_configuration")
	if policy.Num(policy.Path(lc, "rule", "noncurrent_version_expiration", "noncurrent_days")) != 90 {
		t.Errorf("old versions expire after 90 days by default: %v", lc)
	}
	_, pol := one(t, b, "aws_s3_bucket_policy")
	if _, p := one(t, remoteDDB.bootstrap(t), "aws_s3_bucket_policy"); policy.Num(p["count"]) != 0 || pol["count"] != nil {
		t.Error("only the local profile drops the bucket policy (moto gap)")
	}
	for _, typ := range []string{"aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_public_access_block"} {
		if _, r := one(t, remoteDDB.bootstrap(t), typ); r["count"] != nil {
			t.Errorf("the local profile leaves out the bucket policy alone, not its %s", typ)
		}
	}
	if len(b.Of("aws_dynamodb_table")) != 0 || len(remoteDDB.bootstrap(t).Of("aws_dynamodb_table")) != 1 {
		t.Error("a DynamoDB lock table exists only when opted in")
	}
}
