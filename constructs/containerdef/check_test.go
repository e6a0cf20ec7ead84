package containerdef

import (
	"strings"
	"testing"
)

// ok is a task every rule accepts: an essential container with a health
// check, and a sidecar it waits for.
func ok() Task {
	return Task{
		Volumes:       []string{"data"},
		ExecutionRole: true,
		Containers: []Container{
			{Name: "app", Image: "busybox", Essential: true, PortMappings: []PortMapping{{ContainerPort: 80, HostPort: 80}},
				MountPoints: []MountPoint{{SourceVolume: "data", ContainerPath: "/data"}}, StopTimeout: 30,
				HealthCheck:     &HealthCheck{Command: []string{"CMD-SHELL", "true"}, Interval: 30, Timeout: 5, Retries: 3},
				DependsOn:       []Dependency{{Condition: "HEALTHY", ContainerName: "sidecar"}},
				LinuxParameters: &LinuxParameters{Tmpfs: []Tmpfs{{ContainerPath: "/tmp", Size: 16}}},
				Secrets:         []Secret{{Name: "X", ValueFrom: "arn"}}},
			{Name: "sidecar", Image: "busybox", Essential: true,
				HealthCheck: &HealthCheck{Command: []string{"CMD", "true"}, Interval: 10, Timeout: 2, Retries: 1}},
		},
	}
}

// Each rule must catch its violation: one change to a valid task.
func TestCheckCatchesEachRule(t *testing.T) {
	if err := ok().Check(); err != nil {
		t.Fatalf("a valid task refused: %v", err)
	}
	for want, breakIt := range map[string]func(*Task){
		"hostPort (81) must equal":    func(t *Task) { t.Containers[0].PortMappings[0].HostPort = 81 },
		"port 80 is container app's":  func(t *Task) { t.Containers[1].PortMappings = []PortMapping{{ContainerPort: 80}} },
		"stopTimeout 300":             func(t *Task) { t.Containers[0].StopTimeout = 300 },
		"unknown volume \"logs\"":     func(t *Task) { t.Containers[0].MountPoints[0].SourceVolume = "logs" },
		"healthCheck interval 1":      func(t *Task) { t.Containers[0].HealthCheck.Interval = 1 },
		"healthCheck startPeriod 301": func(t *Task) { t.Containers[0].HealthCheck.StartPeriod = 301 },
		"must start with CMD":         func(t *Task) { t.Containers[0].HealthCheck.Command = []string{"wget"} },
		"only SYS_PTRACE": func(t *Task) {
			t.Containers[0].LinuxParameters.Capabilities = &Capabilities{Add: []string{"NET_ADMIN"}}
		},
		"tmpfs \"/tmp\" needs":         func(t *Task) { t.Containers[0].LinuxParameters.Tmpfs[0].Size = 0 },
		"need the task execution role": func(t *Task) { t.ExecutionRole = false },
		"at least one container":       func(t *Task) { t.Containers[0].Essential, t.Containers[1].Essential = false, false },
		"depends on unknown container": func(t *Task) { t.Containers[0].DependsOn[0].ContainerName = "gone" },
		"which has no health check":    func(t *Task) { t.Containers[1].HealthCheck = nil },
		"which is essential":           func(t *Task) { t.Containers[0].DependsOn[0].Condition = "SUCCESS" },
		"is not START, COMPLETE":       func(t *Task) { t.Containers[0].DependsOn[0].Condition = "READY" },
		"form a cycle":                 func(t *Task) { t.Containers[1].DependsOn = []Dependency{{Condition: "START", ContainerName: "app"}} },
		"the name is used twice":       func(t *Task) { t.Containers[1].Name = "app" },
		"needs a name and an image":    func(t *Task) { t.Containers[1].Image = "" },
		"restartAttemptPeriod 30":      func(t *Task) { t.Containers[1].RestartPolicy = &RestartPolicy{Enabled: true, RestartAttemptPeriod: 30} },
	} {
		task := ok()
		breakIt(&task)
		if err := task.Check(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error containing %q, got %v", want, err)
		}
	}
}

// The rendering is ECS's JSON, keys in order, scripts unescaped, and
// reads back as it was.
func TestRenderParse(t *testing.T) {
	in := []Container{{Name: "a", Image: "i", Essential: true, Command: []string{"x > y && z"},
		MountPoints: []MountPoint{{SourceVolume: "v", ContainerPath: "/v"}}}}
	got := Render(in)
	want := `[{"command":["x > y && z"],"essential":true,"image":"i","mountPoints":[{"containerPath":"/v","readOnly":false,"sourceVolume":"v"}],"name":"a","readonlyRootFilesystem":false}]`
	if got != want {
		t.Errorf("Render:\n got %s\nwant %s", got, want)
	}
	back, err := Parse(got)
	if err != nil || Render(back) != got {
		t.Errorf("Parse(Render) = %v, %v", back, err)
	}
}
