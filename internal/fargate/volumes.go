package fargate

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// volume is a task volume's folder on this machine.
type volume struct {
	name string
	dir  string
	// bind volumes live and die with the task; EFS ones persist in the
	// runner's folder, one per file system.
	bind bool
}

// prepareVolumes creates each volume with Fargate's semantics (ECS
// developer guide, "Use bind mounts with Amazon ECS" and "Use Amazon EFS
// volumes with Amazon ECS"):
//   - a bind mount starts empty, owned by root with mode 0755, unless the
//     image of the first container that mounts it has a VOLUME at that
//     container path: then the image's folder there (contents, owner and
//     mode) is copied in;
//   - an EFS volume is the file system's folder (kept across tasks), seen
//     from the access point's root directory, which EFS creates with the
//     access point's owner and permissions when it is missing.
func (t *Task) prepareVolumes(ctx context.Context) error {
	for _, v := range t.def.Volumes {
		name := aws.ToString(v.Name)
		switch {
		case v.EfsVolumeConfiguration != nil:
			dir, err := t.efsVolume(ctx, v.EfsVolumeConfiguration)
			if err != nil {
				return err
			}
			t.volumes[name] = &volume{name: name, dir: dir}
		default:
			dir := filepath.Join(t.dir, "volumes", name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			if err := os.Chown(dir, 0, 0); err != nil {
				return err
			}
			if err := os.Chmod(dir, 0o755); err != nil {
				return err
			}
			t.volumes[name] = &volume{name: name, dir: dir, bind: true}
			if err := t.populate(ctx, name, dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// populate copies an image VOLUME into the bind volume, if the first
// container mounting it has one at its mount path.
func (t *Task) populate(ctx context.Context, name, dir string) error {
	for _, c := range t.Containers {
		for _, mp := range c.def.MountPoints {
			if aws.ToString(mp.SourceVolume) != name {
				continue
			}
			at := path.Clean(aws.ToString(mp.ContainerPath))
			if !slices.Contains(c.img.Config.Volumes, at) {
				return nil
			}
			src := filepath.Join(c.img.Root, at)
			st, err := os.Stat(src)
			if err != nil {
				return nil // VOLUME of a path the image lacks: an empty folder
			}
			if err := copyTree(ctx, src, dir); err != nil {
				return err
			}
			sys := st.Sys().(*syscall.Stat_t)
			if err := os.Chown(dir, int(sys.Uid), int(sys.Gid)); err != nil {
				return err
			}
			return os.Chmod(dir, st.Mode().Perm()|st.Mode()&(os.ModeSticky|os.ModeSetgid))
		}
	}
	return nil
}

func (t *Task) efsVolume(ctx context.Context, cfg *ecstypes.EFSVolumeConfiguration) (string, error) {
	fsID := aws.ToString(cfg.FileSystemId)
	fsDir := filepath.Join(t.r.dir, "efs", fsID)
	if err := os.MkdirAll(fsDir, 0o755); err != nil {
		return "", err
	}
	root := aws.ToString(cfg.RootDirectory)
	ac := cfg.AuthorizationConfig
	if ac == nil || aws.ToString(ac.AccessPointId) == "" {
		dir := filepath.Join(fsDir, path.Clean("/"+root))
		if _, err := os.Stat(dir); err != nil {
			return "", fmt.Errorf("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: mount.nfs4: mounting %s:%s failed, reason given by server: No such file or directory", fsID, root)
		}
		return dir, nil
	}
	if ac.Iam == ecstypes.EFSAuthorizationConfigIAMEnabled && aws.ToString(t.def.TaskRoleArn) == "" {
		return "", fmt.Errorf("ResourceInitializationError: EFS IAM authorization for %s needs a task role", fsID)
	}
	if root != "" && root != "/" {
		return "", fmt.Errorf("ClientException: the root directory of an EFS volume must be / (or omitted) when an access point is used (got %s)", root)
	}
	ap, err := t.r.cloud.accessPoint(ctx, t.region, aws.ToString(ac.AccessPointId))
	if err != nil {
		return "", err
	}
	if ac.Iam == ecstypes.EFSAuthorizationConfigIAMEnabled {
		if err := t.efsAuthorized(ctx, fsID, ap); err != nil {
			return "", err
		}
	}
	dir := filepath.Join(fsDir, path.Clean("/"+ap.Path))
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		if !ap.Create {
			return "", fmt.Errorf("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: access point %s root directory %s does not exist and the access point has no creation info", aws.ToString(ac.AccessPointId), ap.Path)
		}
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return "", err
		}
		perm, err := strconv.ParseUint(ap.Permissions, 8, 32)
		if err != nil {
			return "", fmt.Errorf("access point %s: permissions %q: %w", aws.ToString(ac.AccessPointId), ap.Permissions, err)
		}
		if err := os.Mkdir(dir, 0o700); err != nil {
			return "", err
		}
		if err := os.Chown(dir, int(ap.OwnerUid), int(ap.OwnerGid)); err != nil {
			return "", err
		}
		if err := os.Chmod(dir, os.FileMode(perm)); err != nil {
			return "", err
		}
	}
	for _, c := range t.Containers {
		for _, mp := range c.def.MountPoints {
			if t.volumeOf(aws.ToString(mp.SourceVolume)) == cfg && ap.Uid >= 0 && c.uid != int(ap.Uid) {
				// The runner cannot rewrite file identities as EFS does.
				fmt.Fprintf(os.Stderr, "fargate: container %s runs as uid %d, access point %s acts as uid %d: EFS would create files as %d; here they are checked and owned as %d\n",
					c.Name, c.uid, aws.ToString(ac.AccessPointId), ap.Uid, ap.Uid, c.uid)
			}
		}
	}
	return dir, nil
}

func (t *Task) volumeOf(name string) *ecstypes.EFSVolumeConfiguration {
	for _, v := range t.def.Volumes {
		if aws.ToString(v.Name) == name {
			return v.EfsVolumeConfiguration
		}
	}
	return nil
}

// removeBindVolumes deletes the task's bind volumes: on Fargate their data
// goes with the task.
func (t *Task) removeBindVolumes() {
	for _, v := range t.volumes {
		if v.bind {
			os.RemoveAll(v.dir)
		}
	}
}

// efsAuthorized is EFS IAM authorization: with iam ENABLED the mount is
// made with the task role, which must allow elasticfilesystem:ClientMount
// (and ClientWrite, for a writable mount) on the file system, through this
// access point ("Use Amazon EFS volumes with Amazon ECS"; EFS user guide,
// "Using IAM to control file system data access").
func (t *Task) efsAuthorized(ctx context.Context, fsID string, ap accessPoint) error {
	actions := []string{"elasticfilesystem:ClientMount"}
	for _, c := range t.def.ContainerDefinitions {
		for _, mp := range c.MountPoints {
			if t.volumeOf(aws.ToString(mp.SourceVolume)) != nil && !aws.ToBool(mp.ReadOnly) {
				actions = append(actions, "elasticfilesystem:ClientWrite")
			}
		}
	}
	for _, action := range actions {
		ok, err := t.r.cloud.roleAllows(ctx, t.region, aws.ToString(t.def.TaskRoleArn), action, ap.FileSystemARN,
			map[string]string{"elasticfilesystem:AccessPointArn": ap.ARN})
		if err != nil {
			return fmt.Errorf("ResourceInitializationError: EFS IAM authorization for %s: %w", fsID, err)
		}
		if !ok {
			return fmt.Errorf("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: mount.nfs4: access denied by server while mounting %s (the task role does not allow %s on %s through access point %s)", fsID, action, ap.FileSystemARN, ap.ARN)
		}
	}
	return nil
}
