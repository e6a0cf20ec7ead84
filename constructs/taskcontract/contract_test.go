package taskcontract

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestEntrypointReadsTheContract fails when entrypoint.sh reads a variable,
// defaults a path or writes a file the contract does not state (or the
// other way round).
func TestEntrypointReadsTheContract(t *testing.T) {
	readsExactly(t, "entrypoint.sh", Entrypoint, ScriptEnv)
	for _, name := range DefinitionOnlyEnv {
		if strings.Contains(Entrypoint, name) {
			t.Errorf("%s is listed as definition-only but the entrypoint reads it", name)
		}
	}
	for _, want := range []string{
		"${" + EnvRuntimeDir + ":-" + RuntimeDir + "}",
		"${" + EnvStoragePath + ":-" + StoragePath + "}",
		"${" + EnvDefaultConfig + ":-" + BakedConfig + "}",
		"${" + EnvDefaultRules + ":-" + BakedRules + "}",
		"${" + EnvBin + ":-" + Binary + "}",
		"$runtime_dir/" + ConfigFile,
		"$runtime_dir/" + RulesDir,
		"$rules_dir/" + RulesFile,
		"$config_dir/" + ConfigFile,
		"$config_dir/" + RulesDir,
		"$config_dir/" + SyncedMarker,
		"${" + EnvConfigWaitSeconds + ":-" + strconv.Itoa(ConfigWaitSeconds) + "}",
		FlagAutoReload + " " + FlagAutoReloadInterval + AutoReloadInterval,
		"$runtime_dir/" + WebConfigFile,
		"$runtime_dir/" + SelfScrapePasswordFile,
		FlagConfigFile + "$config_file",
		"storage_flag=" + FlagStoragePath,
		FlagAgent + ") storage_flag=" + FlagAgentStoragePath + " ;;",
		"$storage_flag$storage_path",
		"${" + EnvLockWaitSeconds + ":-",
		FlagListenAddress + "${" + EnvPort,
		FlagWebConfigFile + "$web_config_file",
	} {
		if !strings.Contains(Entrypoint, want) {
			t.Errorf("entrypoint.sh lacks %q", want)
		}
	}
}

func TestUserIsUIDAndGID(t *testing.T) {
	if User != strconv.Itoa(UID)+":"+strconv.Itoa(GID) {
		t.Errorf("User %q is not UID:GID (%d:%d)", User, UID, GID)
	}
	for _, name := range DefinitionOnlyEnv {
		if slices.Contains(ScriptEnv, name) {
			t.Errorf("%s is in both ScriptEnv and DefinitionOnlyEnv", name)
		}
	}
}

// The Alertmanager's script reads exactly AlertmanagerScriptEnv, with the
// contract's defaults, and the flags the task relies on.
func TestAlertmanagerEntrypointReadsTheContract(t *testing.T) {
	readsExactly(t, "alertmanager-entrypoint.sh", AlertmanagerEntrypoint, AlertmanagerScriptEnv)
	for _, want := range []string{
		"${" + EnvAlertmanagerRuntimeDir + ":-" + AlertmanagerRuntimeDir + "}",
		"${" + EnvAlertmanagerStoragePath + ":-" + AlertmanagerStoragePath + "}",
		"--cluster.listen-address=",
		FlagStoragePath[:len("--storage.")],
		"$config_dir/" + AlertmanagerConfigFile,
		"$config_dir/" + SyncedMarker,
		"${" + EnvAlertmanagerReloadSeconds + ":-" + strconv.Itoa(AlertmanagerReloadCheckSeconds) + "}",
		"${" + EnvAlertmanagerWaitSeconds + ":-" + strconv.Itoa(ConfigWaitSeconds) + "}",
	} {
		if !strings.Contains(AlertmanagerEntrypoint, want) {
			t.Errorf("alertmanager-entrypoint.sh lacks %q", want)
		}
	}
}

// The config-sync script reads exactly ConfigSyncScriptEnv, with the
// contract's defaults, and writes the marker the readers wait for.
func TestConfigSyncReadsTheContract(t *testing.T) {
	readsExactly(t, "config-sync.sh", ConfigSyncScript, ConfigSyncScriptEnv)
	for _, want := range []string{
		"${" + EnvConfigSyncDir + ":-" + ConfigDir + "}",
		"${" + EnvConfigSyncInterval + ":-" + strconv.Itoa(ConfigSyncIntervalSeconds) + "}",
		`"$dir/` + SyncedMarker + `"`,
	} {
		if !strings.Contains(ConfigSyncScript, want) {
			t.Errorf("config-sync.sh lacks %q", want)
		}
	}
	if ConfigSyncIntervalSeconds+10 > ConfigLiveBoundSeconds || AlertmanagerReloadCheckSeconds+ConfigSyncIntervalSeconds > ConfigLiveBoundSeconds {
		t.Errorf("ConfigLiveBoundSeconds %d is less than a sync round plus a reload check", ConfigLiveBoundSeconds)
	}
}

// readsExactly fails unless script reads every variable of env and no
// other.
func readsExactly(t *testing.T, name, script string, env []string) {
	t.Helper()
	read := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{?([A-Z][A-Z0-9_]*)`).FindAllStringSubmatch(script, -1) {
		read[m[1]] = true
	}
	for _, v := range env {
		if !read[v] {
			t.Errorf("the contract says %s reads %s; it does not", name, v)
		}
		delete(read, v)
	}
	for v := range read {
		t.Errorf("%s reads %s, which taskcontract does not state (add it to the script's Env list)", name, v)
	}
}
