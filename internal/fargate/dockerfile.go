package fargate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// Dockerfile is an image built from its Dockerfile, the way `docker build`
// would, without a Docker engine: FROM names another image of the catalog
// (its replica is copied), COPY takes files from the build context, RUN runs
// the step's shell command as root inside the replica (bubblewrap, no
// network), and ARG, ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME, ENTRYPOINT
// and CMD set what they set. Multi-stage builds, COPY --from/--chown, ADD
// and RUN as a non-root user are refused, not guessed at.
type Dockerfile struct {
	// Path is the Dockerfile.
	Path string
	// Context is the build context folder.
	Context string
	// Files provide context paths from elsewhere, such as the binaries a
	// release build leaves in .build/ (here: the ones make tools built).
	// Optional files may be missing (see Optional).
	Files map[string]string
	// Optional lists Files entries whose COPY is skipped, with a note in
	// the image's labels, when the file does not exist.
	Optional []string
	// Args override ARG defaults.
	Args map[string]string
}

type instruction struct {
	cmd, args string
	line      int
}

// parseDockerfile splits a Dockerfile into instructions (continuation
// lines joined, comments dropped).
func parseDockerfile(text string) []instruction {
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimRight(raw, " \t\r")
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(trimmed, "#") {
			continue // comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\"))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(line)
		full := strings.TrimSpace(cur.String())
		cur.Reset()
		cmd, args, _ := strings.Cut(full, " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
	}
	return out
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

func expand(s string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.Trim(m, "${}")
		return vars[name]
	})
}

// words parses the JSON (exec) form or splits the plain form on blanks.
func words(args string) []string {
	var list []string
	if strings.HasPrefix(args, "[") && json.Unmarshal([]byte(args), &list) == nil {
		return list
	}
	return strings.Fields(args)
}

// execForm is ENTRYPOINT/CMD: the JSON form as is, the shell form wrapped
// in /bin/sh -c as Docker does.
func execForm(args string) []string {
	var list []string
	if strings.HasPrefix(args, "[") && json.Unmarshal([]byte(args), &list) == nil {
		return list
	}
	return []string{"/bin/sh", "-c", args}
}

func (d Dockerfile) read() ([]instruction, error) {
	data, err := os.ReadFile(d.Path)
	if err != nil {
		return nil, err
	}
	return parseDockerfile(string(data)), nil
}

// from is the base image reference, ARGs before FROM expanded.
func (d Dockerfile) from(ins []instruction) (string, error) {
	vars := map[string]string{}
	for _, in := range ins {
		switch in.cmd {
		case "ARG":
			d.arg(in.args, vars)
		case "FROM":
			ref := expand(strings.Fields(in.args)[0], vars)
			return ref, nil
		}
	}
	return "", fmt.Errorf("%s: no FROM", d.Path)
}

func (d Dockerfile) arg(args string, vars map[string]string) {
	name, def, _ := strings.Cut(args, "=")
	def = strings.Trim(def, `"`)
	if v, ok := d.Args[name]; ok {
		def = v
	}
	vars[name] = def
}

// source is where a COPY source comes from.
func (d Dockerfile) source(src string) string {
	if f, ok := d.Files[src]; ok {
		return f
	}
	return filepath.Join(d.Context, filepath.FromSlash(src))
}

func (d Dockerfile) key(imgs *Images) (string, error) {
	ins, err := d.read()
	if err != nil {
		return "", err
	}
	base, err := d.from(ins)
	if err != nil {
		return "", err
	}
	baseSrc, ok := imgs.Sources[base]
	if !ok {
		return "", fmt.Errorf("%s: base image %s has no recipe in the catalog", d.Path, base)
	}
	baseKey, err := baseSrc.key(imgs)
	if err != nil {
		return "", err
	}
	text, _ := os.ReadFile(d.Path)
	parts := []string{builderVersion, "dockerfile", string(text), baseKey}
	vars := map[string]string{}
	for _, in := range ins {
		switch in.cmd {
		case "ARG":
			d.arg(in.args, vars)
		case "COPY":
			w := words(expand(in.args, vars))
			for _, src := range w[:len(w)-1] {
				stamp, err := fileStamp(d.source(src))
				if err != nil && !d.optional(src) {
					return "", fmt.Errorf("%s:%d: COPY %s: %w", d.Path, in.line, src, err)
				}
				parts = append(parts, src, stamp)
			}
		}
	}
	return digest(parts...), nil
}

func (d Dockerfile) optional(src string) bool {
	for _, o := range d.Optional {
		if o == src {
			return true
		}
	}
	return false
}

func (d Dockerfile) build(ctx context.Context, imgs *Images, root string) (ImageConfig, error) {
	ins, err := d.read()
	if err != nil {
		return ImageConfig{}, err
	}
	baseRef, err := d.from(ins)
	if err != nil {
		return ImageConfig{}, err
	}
	base, err := imgs.Get(ctx, baseRef)
	if err != nil {
		return ImageConfig{}, err
	}
	if err := copyTree(ctx, base.Root, root); err != nil {
		return ImageConfig{}, err
	}
	cfg := base.Config
	cfg.Labels = map[string]string{}
	for k, v := range base.Config.Labels {
		cfg.Labels[k] = v
	}
	vars := map[string]string{}
	fromSeen := false
	for _, in := range ins {
		args := expand(in.args, vars)
		where := fmt.Sprintf("%s:%d", d.Path, in.line)
		switch in.cmd {
		case "ARG":
			d.arg(in.args, vars)
		case "FROM":
			if fromSeen {
				return cfg, fmt.Errorf("%s: multi-stage builds are not replicated", where)
			}
			fromSeen = true
		case "LABEL":
			for _, kv := range labelPairs(args) {
				cfg.Labels[kv[0]] = kv[1]
			}
		case "ENV":
			k, v, ok := strings.Cut(args, "=")
			if !ok {
				k, v, _ = strings.Cut(args, " ")
			}
			cfg.Env = setEnv(cfg.Env, strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`))
		case "COPY":
			if strings.HasPrefix(args, "--") {
				return cfg, fmt.Errorf("%s: COPY flags (%s) are not replicated", where, strings.Fields(args)[0])
			}
			w := words(args)
			if err := d.copy(root, w[:len(w)-1], w[len(w)-1], cfg.WorkingDir, cfg.Labels); err != nil {
				return cfg, fmt.Errorf("%s: %w", where, err)
			}
		case "WORKDIR":
			cfg.WorkingDir = resolve(cfg.WorkingDir, args)
			if err := os.MkdirAll(filepath.Join(root, cfg.WorkingDir), 0o755); err != nil {
				return cfg, err
			}
		case "RUN":
			if u := cfg.User; u != "" && u != "root" && u != "0" && !strings.HasPrefix(u, "0:") {
				return cfg, fmt.Errorf("%s: RUN as user %q is not replicated (only as root)", where, u)
			}
			if err := runStep(ctx, root, cfg, args); err != nil {
				return cfg, fmt.Errorf("%s: RUN %s: %w", where, args, err)
			}
		case "USER":
			cfg.User = args
		case "EXPOSE":
			cfg.ExposedPorts = append(cfg.ExposedPorts, strings.Fields(args)...)
		case "VOLUME":
			for _, v := range words(args) {
				cfg.Volumes = append(cfg.Volumes, path.Clean(v))
			}
		case "ENTRYPOINT":
			cfg.Entrypoint = execForm(args)
			cfg.Cmd = nil // Docker resets CMD when ENTRYPOINT is set
		case "CMD":
			cfg.Cmd = execForm(args)
		case "MAINTAINER", "SHELL", "STOPSIGNAL", "HEALTHCHECK", "ONBUILD":
			// Not read by ECS (its own healthCheck replaces HEALTHCHECK).
		default:
			return cfg, fmt.Errorf("%s: %s is not replicated", where, in.cmd)
		}
	}
	return cfg, nil
}

func labelPairs(args string) [][2]string {
	var out [][2]string
	re := regexp.MustCompile(`([^\s=]+)=("(?:[^"\\]|\\.)*"|\S+)`)
	for _, m := range re.FindAllStringSubmatch(args, -1) {
		out = append(out, [2]string{m[1], strings.Trim(m[2], `"`)})
	}
	return out
}

func setEnv(env []string, k, v string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, k+"=") {
			out = append(out, e)
		}
	}
	return append(out, k+"="+v)
}

// resolve is a path relative to the working directory, as WORKDIR and COPY
// destinations are.
func resolve(wd, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	if wd == "" {
		wd = "/"
	}
	return path.Join(wd, p)
}

// copy is COPY src... dst: files keep their mode and become root's, a
// destination ending in / (or several sources) is a folder.
func (d Dockerfile) copy(root string, srcs []string, dst, wd string, labels map[string]string) error {
	dst = resolve(wd, dst)
	intoDir := strings.HasSuffix(dst, "/") || len(srcs) > 1
	for _, src := range srcs {
		from := d.source(src)
		st, err := os.Stat(from)
		if err != nil {
			if d.optional(src) {
				labels["prometheus-aws.replica/missing"] = strings.TrimSpace(labels["prometheus-aws.replica/missing"] + " " + src)
				continue
			}
			return fmt.Errorf("COPY %s: %w", src, err)
		}
		target := filepath.Join(root, dst)
		if intoDir || st.IsDir() {
			if !st.IsDir() {
				target = filepath.Join(target, filepath.Base(from))
			}
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if st.IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			if out, err := exec.Command("cp", "-r", "--no-preserve=ownership", from+"/.", target+"/").CombinedOutput(); err != nil {
				return fmt.Errorf("COPY %s: %v: %s", src, err, out)
			}
		} else if out, err := exec.Command("cp", "--preserve=mode", "--no-preserve=ownership", from, target).CombinedOutput(); err != nil {
			return fmt.Errorf("COPY %s: %v: %s", src, err, out)
		}
		if out, err := exec.Command("chown", "-R", "0:0", target).CombinedOutput(); err != nil {
			return fmt.Errorf("COPY %s: chown: %v: %s", src, err, out)
		}
	}
	return nil
}

// runStep runs a RUN command with the replica's own shell, as root, with
// no network, the image's environment and working directory.
func runStep(ctx context.Context, root string, cfg ImageConfig, command string) error {
	wd := cfg.WorkingDir
	if wd == "" {
		wd = "/"
	}
	args := []string{"--bind", root, "/", "--proc", "/proc", "--dev", "/dev",
		"--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--die-with-parent",
		"--chdir", wd, "--clearenv"}
	for _, e := range cfg.Env {
		k, v, _ := strings.Cut(e, "=")
		args = append(args, "--setenv", k, v)
	}
	args = append(args, "/bin/sh", "-c", command)
	if out, err := exec.CommandContext(ctx, "bwrap", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}
