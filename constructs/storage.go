package constructs

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecstaskdefinition"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/efsaccesspoint"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/efsbackuppolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/efsfilesystem"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/efsfilesystempolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/efsmounttarget"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/prometheusalertmanagerdefinition"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/prometheusrulegroupnamespace"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/prometheusworkspace"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygroup"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
)

// nfsPort is the port EFS mount targets listen on.
const nfsPort = 2049

// EFSStorageProps configures EFSStorage.
type EFSStorageProps struct {
	// Name prefixes the resource names. Required.
	Name string
	// VpcId and SubnetIds place one mount target per subnet. Required.
	VpcId     *string
	SubnetIds *[]*string
	// Uid and Gid own the TSDB folder; every client acts as them through the
	// access point. Default: taskcontract.UID and GID (the task user).
	Uid, Gid int
	// Path is the folder the access point exposes. Default:
	// taskcontract.StoragePath.
	Path string
	// KmsKeyArn encrypts the file system with a customer key. Default: ""
	// (the AWS-managed key for EFS; encryption at rest is always on).
	KmsKeyArn string
	// BackupOff turns off AWS Backup's daily backup of the file system.
	// Default: false (backups on).
	BackupOff bool
	// ThroughputMode is the file system's throughput mode: "elastic",
	// "bursting" or "provisioned" with ProvisionedMibps (Amazon EFS User
	// Guide, "Throughput modes"). Default: "elastic" (it follows
	// compaction bursts without the credit budget of bursting, which a
	// small file system runs dry; every GB read and written is billed).
	ThroughputMode string
	// ProvisionedMibps is the provisioned throughput (MiB/s), with
	// ThroughputMode "provisioned" only. Default: 0.
	ProvisionedMibps int
}

// EFSStorage is an encrypted EFS file system for one Prometheus TSDB: mount
// targets in every subnet behind their own security group, an access point
// that pins the owner, a policy that refuses unencrypted transport, and
// daily backups. Prometheus's docs do not support NFS for the TSDB;
// docs/operations.md, Storage and high availability, says when to pick it
// anyway and the guards used (one writer, TSDB lock file).
type EFSStorage struct {
	constructs.Construct
	FileSystem    efsfilesystem.EfsFileSystem
	AccessPoint   efsaccesspoint.EfsAccessPoint
	MountTargets  []efsmounttarget.EfsMountTarget
	SecurityGroup securitygroup.SecurityGroup
	Policy        efsfilesystempolicy.EfsFileSystemPolicy
	// Backup is nil with BackupOff.
	Backup efsbackuppolicy.EfsBackupPolicy
	// MoreAccessPoints are the folders added with AddAccessPoint.
	MoreAccessPoints []efsaccesspoint.EfsAccessPoint

	name     string
	uid, gid int
}

// NewEFSStorage creates the file system, its mount targets and access point.
func NewEFSStorage(scope constructs.Construct, id string, props *EFSStorageProps) *EFSStorage {
	p := *props
	requireProps("EFSStorage", id, need("Name", p.Name == ""), need("VpcId", p.VpcId == nil),
		need("SubnetIds", p.SubnetIds == nil || len(*p.SubnetIds) == 0))
	p.Uid = intOr(p.Uid, taskcontract.UID)
	p.Gid = intOr(p.Gid, taskcontract.GID)
	p.Path = orDefault(p.Path, taskcontract.StoragePath)
	p.ThroughputMode = orDefault(p.ThroughputMode, "elastic")
	switch {
	case p.ThroughputMode != "elastic" && p.ThroughputMode != "bursting" && p.ThroughputMode != "provisioned":
		panic(fmt.Sprintf("EFSStorage %s: ThroughputMode %q is none of elastic, bursting, provisioned", id, p.ThroughputMode))
	case (p.ThroughputMode == "provisioned") != (p.ProvisionedMibps > 0):
		panic(fmt.Sprintf("EFSStorage %s: ProvisionedMibps %d goes with ThroughputMode provisioned, and only with it (ThroughputMode %s)", id, p.ProvisionedMibps, p.ThroughputMode))
	}
	var provisioned *float64
	if p.ProvisionedMibps > 0 {
		provisioned = jsii.Number(p.ProvisionedMibps)
	}

	scope = constructs.NewConstruct(scope, jsii.String(id))
	e := &EFSStorage{Construct: scope, name: p.Name, uid: p.Uid, gid: p.Gid}
	e.SecurityGroup = newSecurityGroup(scope, p.Name+"-efs-sg", "EFS mount targets: NFS from Prometheus only", p.VpcId)
	e.FileSystem = efsfilesystem.NewEfsFileSystem(scope, jsii.String("file-system"), &efsfilesystem.EfsFileSystemConfig{
		CreationToken:                jsii.String(p.Name + "-tsdb"),
		Encrypted:                    jsii.Bool(true),
		KmsKeyId:                     optional(p.KmsKeyArn),
		ThroughputMode:               jsii.String(p.ThroughputMode),
		ProvisionedThroughputInMibps: provisioned,
		Tags:                         nameTag(p.Name + "-tsdb"),
	})
	for i, subnetID := range *p.SubnetIds {
		e.MountTargets = append(e.MountTargets, efsmounttarget.NewEfsMountTarget(scope, jsii.String(fmt.Sprintf("mount-target-%d", i)), &efsmounttarget.EfsMountTargetConfig{
			FileSystemId:   e.FileSystem.Id(),
			SubnetId:       subnetID,
			SecurityGroups: &[]*string{e.SecurityGroup.Id()},
		}))
	}
	e.AccessPoint = e.accessPoint(scope, "access-point", p.Path, p.Name+"-tsdb")
	e.Policy = efsfilesystempolicy.NewEfsFileSystemPolicy(scope, jsii.String("policy"), &efsfilesystempolicy.EfsFileSystemPolicyConfig{
		FileSystemId: e.FileSystem.Id(),
		Policy: Policy(Statement{
			Sid: "DenyUnencryptedTransport", Effect: "Deny",
			Principal: map[string]string{"AWS": "*"},
			Action:    []string{"*"},
			Resource:  []string{*e.FileSystem.Arn()},
			Condition: map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
		}).JSON(),
	})
	if !p.BackupOff {
		e.Backup = efsbackuppolicy.NewEfsBackupPolicy(scope, jsii.String("backup"), &efsbackuppolicy.EfsBackupPolicyConfig{
			FileSystemId: e.FileSystem.Id(),
			BackupPolicy: &efsbackuppolicy.EfsBackupPolicyBackupPolicy{Status: jsii.String("ENABLED")},
		})
	}
	return e
}

// accessPoint exposes the folder at path, created owned by the storage's
// user and group with mode 0750; every client acts as them.
func (e *EFSStorage) accessPoint(scope constructs.Construct, id, path, name string) efsaccesspoint.EfsAccessPoint {
	return efsaccesspoint.NewEfsAccessPoint(scope, jsii.String(id), &efsaccesspoint.EfsAccessPointConfig{
		FileSystemId: e.FileSystem.Id(),
		PosixUser:    &efsaccesspoint.EfsAccessPointPosixUser{Uid: jsii.Number(e.uid), Gid: jsii.Number(e.gid)},
		RootDirectory: &efsaccesspoint.EfsAccessPointRootDirectory{
			Path: jsii.String(path),
			CreationInfo: &efsaccesspoint.EfsAccessPointRootDirectoryCreationInfo{
				OwnerUid: jsii.Number(e.uid), OwnerGid: jsii.Number(e.gid), Permissions: jsii.String("0750"),
			},
		},
		Tags: nameTag(name),
	})
}

// AddAccessPoint exposes one more folder of the file system (path, owned
// like the TSDB's) to the task, e.g. the bundled Alertmanager's state. Add
// it before the task attaches: the task role's mount right names every
// access point.
func (e *EFSStorage) AddAccessPoint(id, path string) efsaccesspoint.EfsAccessPoint {
	ap := e.accessPoint(e.Construct, id, path, e.name+"-"+id)
	e.MoreAccessPoints = append(e.MoreAccessPoints, ap)
	return ap
}

// attach lets the task behind clientSG mount the file system: NFS between
// the security groups, and the IAM statement its task role needs (mount and
// write, through these access points only).
func (e *EFSStorage) attach(scope constructs.Construct, clientSG securitygroup.SecurityGroup) Statement {
	allowTCP(scope, "nfs-from-prometheus", "prometheus-to-nfs", clientSG.Id(), e.SecurityGroup.Id(), nfsPort)
	var aps any = *e.AccessPoint.Arn()
	if len(e.MoreAccessPoints) > 0 {
		arns := []string{*e.AccessPoint.Arn()}
		for _, ap := range e.MoreAccessPoints {
			arns = append(arns, *ap.Arn())
		}
		aps = arns
	}
	return Statement{
		Sid: "TSDBOnEFS", Effect: "Allow",
		Action:    []string{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"},
		Resource:  []string{*e.FileSystem.Arn()},
		Condition: map[string]any{"StringEquals": map[string]any{"elasticfilesystem:AccessPointArn": aps}},
	}
}

// volume is the task volume that mounts the TSDB's access point, encrypted
// in transit and authorized by the task role.
func (e *EFSStorage) volume(name string) *ecstaskdefinition.EcsTaskDefinitionVolume {
	return e.volumeAt(name, e.AccessPoint)
}

// volumeAt is the task volume that mounts access point ap.
func (e *EFSStorage) volumeAt(name string, ap efsaccesspoint.EfsAccessPoint) *ecstaskdefinition.EcsTaskDefinitionVolume {
	return &ecstaskdefinition.EcsTaskDefinitionVolume{
		Name: jsii.String(name),
		EfsVolumeConfiguration: &ecstaskdefinition.EcsTaskDefinitionVolumeEfsVolumeConfiguration{
			FileSystemId:      e.FileSystem.Id(),
			TransitEncryption: jsii.String("ENABLED"),
			AuthorizationConfig: &ecstaskdefinition.EcsTaskDefinitionVolumeEfsVolumeConfigurationAuthorizationConfig{
				AccessPointId: ap.Id(),
				Iam:           jsii.String("ENABLED"),
			},
		},
	}
}

// AMPWorkspaceProps configures AMPWorkspace.
type AMPWorkspaceProps struct {
	// Name is the workspace alias. Required.
	Name string
	// Region is the workspace's region, for the remote-write URL. Required.
	Region string
	// KmsKeyArn encrypts the workspace with a customer key. Default: ""
	// (AWS-owned key).
	KmsKeyArn string
	// RetentionDays is how many days the workspace keeps samples, 1 to
	// 1095 (AMP's range: Amazon Managed Service for Prometheus User Guide,
	// "Configure your workspace"). Default: 0 (no workspace configuration:
	// AMP's default, 150 days).
	RetentionDays int
}

// AMPWorkspace is an Amazon Managed Service for Prometheus workspace that
// Prometheus remote-writes every sample to: durable, horizontally scaled
// storage that de-duplicates HA replicas.
type AMPWorkspace struct {
	constructs.Construct
	Workspace prometheusworkspace.PrometheusWorkspace
	// Configuration is the workspace's configuration (its retention); nil
	// without RetentionDays. A raw aws_prometheus_workspace_configuration:
	// the bindings (cdktf-provider-aws-go v19.50.0) are generated from
	// provider 5.84, which predates the resource (new in 5.100.0, hence
	// AWSProviderConstraint).
	Configuration cdktf.TerraformResource
}

// AMP's range of a workspace's retention, in days.
const (
	minWorkspaceRetentionDays = 1
	maxWorkspaceRetentionDays = 1095
)

// NewAMPWorkspace creates the workspace.
func NewAMPWorkspace(scope constructs.Construct, id string, props *AMPWorkspaceProps) *AMPWorkspace {
	requireProps("AMPWorkspace", id, need("Name", props.Name == ""), need("Region", props.Region == ""))
	scope = constructs.NewConstruct(scope, jsii.String(id))
	w := &AMPWorkspace{Construct: scope}
	w.Workspace = prometheusworkspace.NewPrometheusWorkspace(scope, jsii.String("workspace"), &prometheusworkspace.PrometheusWorkspaceConfig{
		Alias:     jsii.String(props.Name),
		KmsKeyArn: optional(props.KmsKeyArn),
		Tags:      nameTag(props.Name),
	})
	if d := props.RetentionDays; d != 0 {
		if d < minWorkspaceRetentionDays || d > maxWorkspaceRetentionDays {
			panic(fmt.Sprintf("AMPWorkspace %s: RetentionDays %d is outside AMP's %d to %d days", id, d, minWorkspaceRetentionDays, maxWorkspaceRetentionDays))
		}
		// UpdateWorkspaceConfiguration; the provider's delete leaves the
		// setting to the workspace (deleted with it).
		w.Configuration = cdktf.NewTerraformResource(scope, jsii.String("configuration"), &cdktf.TerraformResourceConfig{
			TerraformResourceType: jsii.String("aws_prometheus_workspace_configuration"),
		})
		w.Configuration.AddOverride(jsii.String("workspace_id"), w.Workspace.Id())
		w.Configuration.AddOverride(jsii.String("retention_period_in_days"), jsii.Number(d))
	}
	return w
}

// AMPAlerting is the alert delivery of a workspace: its ruler evaluates the
// rules on the samples every replica writes (de-duplicated: once), and its
// alert manager sends what fires.
type AMPAlerting struct {
	Rules        prometheusrulegroupnamespace.PrometheusRuleGroupNamespace
	AlertManager prometheusalertmanagerdefinition.PrometheusAlertManagerDefinition
}

// AddAlerting loads rulesYAML (a Prometheus rules file) into the
// workspace's ruler as one rule groups namespace, and definition (amconfig's
// AMPDefinition; taskcontract's TopicARNPlaceholder and
// PrometheusURLPlaceholder in it become topicArn and prometheusURL, which
// may be nil without that placeholder) as its alert manager. The topic's
// policy must let aps.amazonaws.com publish (ServiceAlarmsProps.WorkspaceArn).
func (w *AMPWorkspace) AddAlerting(name, rulesYAML, definition string, topicArn, prometheusURL *string) *AMPAlerting {
	return &AMPAlerting{
		Rules: prometheusrulegroupnamespace.NewPrometheusRuleGroupNamespace(w.Construct, jsii.String("rules"), &prometheusrulegroupnamespace.PrometheusRuleGroupNamespaceConfig{
			Name:        jsii.String(name),
			WorkspaceId: w.Workspace.Id(),
			Data:        jsii.String(TerraformLiteral(rulesYAML)),
		}),
		AlertManager: prometheusalertmanagerdefinition.NewPrometheusAlertManagerDefinition(w.Construct, jsii.String("alert-manager"), &prometheusalertmanagerdefinition.PrometheusAlertManagerDefinitionConfig{
			WorkspaceId: w.Workspace.Id(),
			Definition:  jsii.String(fillIn(definition, topicArn, prometheusURL)),
		}),
	}
}

// remoteWriteStatement is the task role's only right on the workspace.
func (w *AMPWorkspace) remoteWriteStatement() Statement {
	return Statement{Sid: "RemoteWrite", Effect: "Allow", Action: []string{"aps:RemoteWrite"}, Resource: []string{*w.Workspace.Arn()}}
}
