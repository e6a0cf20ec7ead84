package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucket"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketlifecycleconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketownershipcontrols"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpublicaccessblock"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketserversideencryptionconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketversioning"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// StateBucketProps configures StateBucket.
type StateBucketProps struct {
	// BucketName is the globally unique S3 bucket name. Required.
	BucketName string
	// NoncurrentDays expires old state versions after this many days.
	// Required.
	NoncurrentDays int
	// AllowDestroy lifts prevent_destroy on the bucket. Default: false
	// (terraform destroy refuses to delete the state of every environment).
	AllowDestroy bool
	// LockTableName creates a DynamoDB lock table for Terraform < 1.10.
	// Default: "" (none; S3-native locking with use_lockfile).
	LockTableName string
}

// StateBucket is where Terraform state lives: versioned (every state is
// recoverable), encrypted, private, TLS-only, and protected from destroy.
type StateBucket struct {
	constructs.Construct
	Bucket            s3bucket.S3Bucket
	Versioning        s3bucketversioning.S3BucketVersioningA
	Encryption        s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationA
	PublicAccessBlock s3bucketpublicaccessblock.S3BucketPublicAccessBlock
	Policy            s3bucketpolicy.S3BucketPolicy
	Lifecycle         s3bucketlifecycleconfiguration.S3BucketLifecycleConfiguration
	// LockTable is nil unless LockTableName was set.
	LockTable dynamodbtable.DynamodbTable
	// PolicyDocument is the bucket policy, for tests and reviewers.
	PolicyDocument *PolicyDocument
}

// NewStateBucket creates the state bucket and, opt-in, a lock table.
func NewStateBucket(scope constructs.Construct, id string, props *StateBucketProps) *StateBucket {
	p := *props
	requireProps("StateBucket", id, need("BucketName", p.BucketName == ""), need("NoncurrentDays", p.NoncurrentDays == 0))

	scope = constructs.NewConstruct(scope, jsii.String(id))
	b := &StateBucket{Construct: scope}
	b.Bucket = s3bucket.NewS3Bucket(scope, jsii.String("bucket"), &s3bucket.S3BucketConfig{
		Bucket:    jsii.String(p.BucketName),
		Lifecycle: &cdktf.TerraformResourceLifecycle{PreventDestroy: jsii.Bool(!p.AllowDestroy)},
		Tags:      nameTag(p.BucketName),
	})
	b.Versioning = s3bucketversioning.NewS3BucketVersioningA(scope, jsii.String("versioning"), &s3bucketversioning.S3BucketVersioningAConfig{
		Bucket:                  b.Bucket.Id(),
		VersioningConfiguration: &s3bucketversioning.S3BucketVersioningVersioningConfiguration{Status: jsii.String("Enabled")},
	})
	b.Encryption = s3bucketserversideencryptionconfiguration.NewS3BucketServerSideEncryptionConfigurationA(scope, jsii.String("encryption"), &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationAConfig{
		Bucket: b.Bucket.Id(),
		Rule: &[]*s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleA{{
			ApplyServerSideEncryptionByDefault: &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA{
				SseAlgorithm: jsii.String("AES256"),
			},
		}},
	})
	b.PublicAccessBlock = s3bucketpublicaccessblock.NewS3BucketPublicAccessBlock(scope, jsii.String("public-access-block"), &s3bucketpublicaccessblock.S3BucketPublicAccessBlockConfig{
		Bucket:                b.Bucket.Id(),
		BlockPublicAcls:       jsii.Bool(true),
		BlockPublicPolicy:     jsii.Bool(true),
		IgnorePublicAcls:      jsii.Bool(true),
		RestrictPublicBuckets: jsii.Bool(true),
	})
	s3bucketownershipcontrols.NewS3BucketOwnershipControls(scope, jsii.String("ownership"), &s3bucketownershipcontrols.S3BucketOwnershipControlsConfig{
		Bucket: b.Bucket.Id(),
		Rule:   &s3bucketownershipcontrols.S3BucketOwnershipControlsRule{ObjectOwnership: jsii.String("BucketOwnerEnforced")},
	})
	b.denyPlainHTTP(scope)
	b.Lifecycle = s3bucketlifecycleconfiguration.NewS3BucketLifecycleConfiguration(scope, jsii.String("lifecycle"), &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationConfig{
		Bucket: b.Bucket.Id(),
		Rule: &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRule{{
			Id:     jsii.String("expire-old-state-versions"),
			Status: jsii.String("Enabled"),
			Filter: &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleFilter{Prefix: jsii.String("")},
			NoncurrentVersionExpiration: &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration{
				NoncurrentDays: jsii.Number(p.NoncurrentDays),
			},
			AbortIncompleteMultipartUpload: &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload{
				DaysAfterInitiation: jsii.Number(7),
			},
		}},
		DependsOn: &[]cdktf.ITerraformDependable{b.Versioning},
	})
	if p.LockTableName != "" {
		b.LockTable = dynamodbtable.NewDynamodbTable(scope, jsii.String("locks"), &dynamodbtable.DynamodbTableConfig{
			Name:        jsii.String(p.LockTableName),
			BillingMode: jsii.String("PAY_PER_REQUEST"),
			HashKey:     jsii.String("LockID"),
			Attribute: &[]*dynamodbtable.DynamodbTableAttribute{{
				Name: jsii.String("LockID"), Type: jsii.String("S"),
			}},
			ServerSideEncryption: &dynamodbtable.DynamodbTableServerSideEncryption{Enabled: jsii.Bool(true)},
			Lifecycle:            &cdktf.TerraformResourceLifecycle{PreventDestroy: jsii.Bool(!p.AllowDestroy)},
			Tags:                 nameTag(p.LockTableName),
		})
	}
	return b
}

// denyPlainHTTP is the bucket policy refusing every request without TLS.
// The public access block must exist first, or AWS may judge the policy
// before the block applies.
func (b *StateBucket) denyPlainHTTP(scope constructs.Construct) {
	b.PolicyDocument = Policy(Statement{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: map[string]string{"AWS": "*"},
		// Every S3 action, not a list: a list leaves the rest (the old state
		// versions' GetObjectVersion among them) open over plain HTTP. Amazon
		// S3 user guide, "Security best practices for Amazon S3"
		// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html):
		// deny requests without TLS (aws:SecureTransport false). Policy rule
		// tls-only-all-actions.
		Action:    []string{"s3:*"},
		Resource:  []string{*b.Bucket.Arn(), *b.Bucket.Arn() + "/*"},
		Condition: map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
	})
	b.Policy = s3bucketpolicy.NewS3BucketPolicy(scope, jsii.String("policy"), &s3bucketpolicy.S3BucketPolicyConfig{
		Bucket:    b.Bucket.Id(),
		Policy:    b.PolicyDocument.JSON(),
		DependsOn: &[]cdktf.ITerraformDependable{b.PublicAccessBlock},
	})
}
