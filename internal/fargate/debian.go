package fargate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
)

// DebianPackages is a replica unpacked from Debian packages, for an image
// whose own recipe cannot be run here: every .deb in Dir, in name order,
// unpacked (dpkg-deb -x, no maintainer script runs) into the root
// filesystem. What the maintainer scripts and the image's base would add
// is done instead: /etc/passwd and /etc/group (Debian's base-passwd: root
// and nobody 65534), /tmp 1777, an empty CA bundle for the runner to bind
// RunOptions.TrustedCA over, the runtime files (Images.buildInto),
// ldconfig's cache and the Python bytecode (py3compile's work, so nothing
// is written at run time on a read-only root), the image config's
// WorkingDir, and Links. It replicates the image's programs and commands,
// not its distribution: libraries, versions and the other files are
// Debian's.
type DebianPackages struct {
	// Dir holds the .deb files (make tools downloads them).
	Dir string
	// Config is the image's configuration (Entrypoint, WorkingDir, Env).
	Config ImageConfig
	// Links are symlinks made last, path in the image -> target, replacing
	// what is there: the image's paths for Debian's files.
	Links map[string]string
}

// From Debian's base-passwd (passwd.master, group.master), shortened.
const (
	debianPasswd = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`
	debianGroup = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
staff:x:50:
users:x:100:
nogroup:x:65534:
`
	// debianSteps runs as root in the replica after the unpacking: what
	// libc-bin's trigger and the Python packages' postinst (py3compile) do.
	debianSteps = `ldconfig && if command -v python3 >/dev/null; then python3 -m compileall -q -j 0 /usr/lib/python3 /usr/lib/python3.*; fi`
)

func (d DebianPackages) debs() ([]string, error) {
	debs, err := filepath.Glob(filepath.Join(d.Dir, "*.deb"))
	if err == nil && len(debs) == 0 {
		err = fmt.Errorf("no .deb files in %s (make tools downloads them)", d.Dir)
	}
	sort.Strings(debs)
	return debs, err
}

func (d DebianPackages) key(*Images) (string, error) {
	debs, err := d.debs()
	if err != nil {
		return "", err
	}
	cfg, _ := json.Marshal(d.Config)
	links, _ := json.Marshal(d.Links) // map keys sorted
	parts := []string{builderVersion, "debian-packages", debianPasswd, debianGroup, debianSteps, string(cfg), string(links)}
	for _, deb := range debs {
		sum, err := fileSHA256(deb)
		if err != nil {
			return "", err
		}
		parts = append(parts, filepath.Base(deb), sum)
	}
	return digest(parts...), nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (d DebianPackages) build(ctx context.Context, _ *Images, root string) (ImageConfig, error) {
	debs, err := d.debs()
	if err != nil {
		return ImageConfig{}, err
	}
	for _, deb := range debs {
		if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
			return ImageConfig{}, fmt.Errorf("dpkg-deb -x %s: %v: %s", filepath.Base(deb), err, out)
		}
	}
	for dir, mode := range map[string]os.FileMode{"dev": 0o755, "proc": 0o555, "root": 0o700, "tmp": os.ModeSticky | 0o777, "etc/ssl/certs": 0o755} {
		p := filepath.Join(root, dir)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return ImageConfig{}, err
		}
		if err := os.Chmod(p, mode); err != nil {
			return ImageConfig{}, err
		}
	}
	if d.Config.WorkingDir != "" { // docker build creates the WORKDIR
		if err := os.MkdirAll(filepath.Join(root, d.Config.WorkingDir), 0o755); err != nil {
			return ImageConfig{}, err
		}
	}
	files := map[string]string{"etc/passwd": debianPasswd, "etc/group": debianGroup}
	if _, err := os.Lstat(filepath.Join(root, CABundle)); os.IsNotExist(err) {
		files[CABundle] = ""
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return ImageConfig{}, err
		}
	}
	if err := runStep(ctx, root, ImageConfig{Env: d.Config.Env}, debianSteps); err != nil {
		return ImageConfig{}, fmt.Errorf("ldconfig and py3compile in the replica: %w", err)
	}
	for link, target := range d.Links {
		p := filepath.Join(root, link)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return ImageConfig{}, err
		}
		if err := os.RemoveAll(p); err != nil {
			return ImageConfig{}, err
		}
		if err := os.Symlink(target, p); err != nil {
			return ImageConfig{}, err
		}
	}
	return d.Config, nil
}
