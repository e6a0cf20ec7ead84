package fargate

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Busybox is the replica of the Prometheus project's busybox base image
// (quay.io/prometheus/busybox-<os>-<arch>:latest, the uclibc variant): the
// official busybox image (one static busybox, every applet a link in /bin,
// its /etc/passwd and /etc/group with nobody = 65534:65534, /tmp 1777) plus
// what github.com/prometheus/busybox adds from Debian: /etc/nsswitch.conf,
// /etc/services, /usr/share/zoneinfo and the CA bundle
// /etc/ssl/certs/ca-certificates.crt. Busybox here is Debian's
// busybox-static (1.35), not the image's build of it.
type Busybox struct {
	// Binary is a static busybox; default /bin/busybox (busybox-static).
	Binary string
}

const busyboxBinary = "/bin/busybox"

// The official busybox image's account files.
const (
	busyboxPasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`
	busyboxGroup = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nobody:x:65534:
`
	nsswitch = "hosts: files dns\nnetworks: files\n"
)

// CABundle is where the image keeps its trusted certificates; the runner
// puts the emulator's certificate there (RunOptions.TrustedCA).
const CABundle = "/etc/ssl/certs/ca-certificates.crt"

func (b Busybox) binary() string {
	if b.Binary != "" {
		return b.Binary
	}
	return busyboxBinary
}

func (b Busybox) key(*Images) (string, error) {
	stamp, err := fileStamp(b.binary())
	if err != nil {
		return "", fmt.Errorf("busybox base image: %w (install Debian's busybox-static: make tools)", err)
	}
	return digest(builderVersion, "busybox /tmp sticky", stamp, busyboxPasswd, busyboxGroup, nsswitch), nil
}

func (b Busybox) build(ctx context.Context, _ *Images, root string) (ImageConfig, error) {
	for dir, mode := range map[string]os.FileMode{
		"bin": 0o755, "dev": 0o755, "etc": 0o755, "home": 0o755, "lib": 0o755, "proc": 0o555, "root": 0o700,
		"sys": 0o555, "tmp": os.ModeSticky | 0o777, "usr/sbin": 0o755, "var/spool/mail": 0o755, "var/www": 0o755,
		"etc/ssl/certs": 0o755, "usr/share": 0o755,
	} {
		p := filepath.Join(root, dir)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return ImageConfig{}, err
		}
		if err := os.Chmod(p, mode); err != nil {
			return ImageConfig{}, err
		}
	}
	bb := filepath.Join(root, "bin", "busybox")
	if out, err := exec.CommandContext(ctx, "cp", b.binary(), bb).CombinedOutput(); err != nil {
		return ImageConfig{}, fmt.Errorf("busybox: %v: %s", err, out)
	}
	if err := os.Chmod(bb, 0o755); err != nil {
		return ImageConfig{}, err
	}
	list, err := exec.CommandContext(ctx, b.binary(), "--list").Output()
	if err != nil {
		return ImageConfig{}, fmt.Errorf("busybox --list: %w", err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Link(bb, filepath.Join(root, "bin", applet)); err != nil && !os.IsExist(err) {
			return ImageConfig{}, err
		}
	}
	files := map[string]string{"etc/passwd": busyboxPasswd, "etc/group": busyboxGroup, "etc/nsswitch.conf": nsswitch}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return ImageConfig{}, err
		}
	}
	// From Debian, as the Prometheus busybox build copies them; the CA
	// bundle is empty here (the runner supplies the emulator's).
	if err := os.WriteFile(filepath.Join(root, CABundle), nil, 0o644); err != nil {
		return ImageConfig{}, err
	}
	for _, f := range []string{"/etc/services", "/usr/share/zoneinfo"} {
		if _, err := os.Stat(f); err == nil {
			if out, err := exec.CommandContext(ctx, "cp", "-a", f, filepath.Join(root, filepath.Dir(f))+"/").CombinedOutput(); err != nil {
				return ImageConfig{}, fmt.Errorf("copy %s: %v: %s", f, err, out)
			}
		}
	}
	return ImageConfig{
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Cmd: []string{"sh"},
	}, nil
}
