package fargate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Image is a local replica of a container image: its root filesystem,
// built from the image's own recipe, and the parts of its configuration a
// container runtime reads.
type Image struct {
	Ref    string
	Root   string // the root filesystem (never written by a container)
	Config ImageConfig
}

// ImageConfig is the runtime part of an image's configuration, as
// `docker image inspect` shows it under Config.
type ImageConfig struct {
	User         string            `json:"User,omitempty"`
	WorkingDir   string            `json:"WorkingDir,omitempty"`
	Entrypoint   []string          `json:"Entrypoint,omitempty"`
	Cmd          []string          `json:"Cmd,omitempty"`
	Env          []string          `json:"Env,omitempty"`
	Volumes      []string          `json:"Volumes,omitempty"`
	ExposedPorts []string          `json:"ExposedPorts,omitempty"`
	Labels       map[string]string `json:"Labels,omitempty"`
}

// Source builds one image replica.
type Source interface {
	// key is a digest of everything the replica is built from.
	key(imgs *Images) (string, error)
	// build writes the root filesystem into root and returns the config.
	build(ctx context.Context, imgs *Images, root string) (ImageConfig, error)
}

// Images maps image references (as a task definition names them) to the
// recipes of their replicas, and builds each replica once into a cache
// folder shared by every process of the machine.
type Images struct {
	// Sources by image reference.
	Sources map[string]Source
	// Aliases are other names of the images of Sources (alias -> its key
	// in Sources): the same release published on another registry, e.g.
	// quay.io/prometheus/prometheus for prom/prometheus (Catalog).
	Aliases map[string]string
	// CacheDir holds built replicas (<CacheDir>/<key>/rootfs + config.json).
	CacheDir string

	mu    sync.Mutex
	locks map[string]*sync.Mutex
	built map[string]*Image
}

// builderVersion changes the cache key of every replica when the way they
// are built changes.
const builderVersion = "replica-v2"

// runtimeFiles are the files a container runtime mounts over every
// container's own (Docker and Fargate write /etc/hosts, /etc/hostname and
// /etc/resolv.conf per container); the replica holds empty ones to mount
// over, as a read-only root cannot gain new files.
var runtimeFiles = []string{"etc/hosts", "etc/hostname", "etc/resolv.conf"}

// knows reports whether ref names an image of the catalog (or an alias of
// one).
func (imgs *Images) knows(ref string) bool {
	_, alias := imgs.Aliases[ref]
	_, source := imgs.Sources[ref]
	return alias || source
}

// Get returns the replica of ref (or of the image ref is an alias of),
// building it if the cache has none.
func (imgs *Images) Get(ctx context.Context, ref string) (*Image, error) {
	if canonical, ok := imgs.Aliases[ref]; ok {
		ref = canonical
	}
	src, ok := imgs.Sources[ref]
	if !ok {
		known := make([]string, 0, len(imgs.Sources)+len(imgs.Aliases))
		for k := range imgs.Sources {
			known = append(known, k)
		}
		for k := range imgs.Aliases {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("image %q has no local replica (the runner knows %s); add its recipe to the image catalog", ref, strings.Join(known, ", "))
	}
	// One lock per image: building one locks its base too, in turn.
	imgs.mu.Lock()
	if imgs.locks == nil {
		imgs.locks, imgs.built = map[string]*sync.Mutex{}, map[string]*Image{}
	}
	lock := imgs.locks[ref]
	if lock == nil {
		lock = &sync.Mutex{}
		imgs.locks[ref] = lock
	}
	imgs.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()
	imgs.mu.Lock()
	img := imgs.built[ref]
	imgs.mu.Unlock()
	if img != nil {
		return img, nil
	}
	key, err := src.key(imgs)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	dir := filepath.Join(imgs.CacheDir, key)
	img, err = loadImage(ref, dir)
	if err != nil {
		if img, err = imgs.buildInto(ctx, ref, src, dir); err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
	}
	imgs.mu.Lock()
	imgs.built[ref] = img
	imgs.mu.Unlock()
	return img, nil
}

func loadImage(ref, dir string) (*Image, error) {
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	img := &Image{Ref: ref, Root: filepath.Join(dir, "rootfs")}
	if err := json.Unmarshal(data, &img.Config); err != nil {
		return nil, err
	}
	return img, nil
}

// buildInto builds in a temporary folder beside dir and renames it into
// place, so a concurrent or interrupted build never leaves half an image.
func (imgs *Images) buildInto(ctx context.Context, ref string, src Source, dir string) (*Image, error) {
	if err := os.MkdirAll(imgs.CacheDir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(imgs.CacheDir, ".build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	root := filepath.Join(tmp, "rootfs")
	if err := os.Mkdir(root, 0o755); err != nil {
		return nil, err
	}
	cfg, err := src.build(ctx, imgs, root)
	if err != nil {
		return nil, err
	}
	for _, f := range runtimeFiles {
		p := filepath.Join(root, f)
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				return nil, err
			}
		}
	}
	data, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "config.json"), data, 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) && !isNotEmpty(err) {
		return nil, err
	}
	return loadImage(ref, dir)
}

func isNotEmpty(err error) bool { return strings.Contains(err.Error(), "directory not empty") }

// digest hashes its parts in order.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// fileStamp identifies a file's content cheaply: path, size and mtime.
func fileStamp(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s:%d:%d", path, st.Size(), st.ModTime().UnixNano()), nil
}

// copyTree copies src's contents into dst preserving owners, modes, links
// and hard links (GNU cp -a).
func copyTree(ctx context.Context, src, dst string) error {
	if out, err := exec.CommandContext(ctx, "cp", "-a", src+"/.", dst+"/").CombinedOutput(); err != nil {
		return fmt.Errorf("cp -a %s %s: %v: %s", src, dst, err, out)
	}
	return nil
}
