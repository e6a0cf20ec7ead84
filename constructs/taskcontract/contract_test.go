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
	read := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{?([A-Z][A-Z0-9_]*)`).FindAllStringSubmatch(Entrypoint, -1) {
		read[m[1]] = true
	}
	for _, name := range ScriptEnv {
		if !read[name] {
			t.Errorf("the contract says the entrypoint reads %s; it does not", name)
		}
		delete(read, name)
	}
	for name := range read {
		t.Errorf("the entrypoint reads %s, which taskcontract does not state (add it to ScriptEnv)", name)
	}
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
		"$runtime_dir/" + RulesFile,
		"$runtime_dir/" + WebConfigFile,
		"$runtime_dir/" + SelfScrapePasswordFile,
		FlagConfigFile + "$config_file",
		FlagStoragePath + "$storage_path",
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
	read := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{?([A-Z][A-Z0-9_]*)`).FindAllStringSubmatch(AlertmanagerEntrypoint, -1) {
		read[m[1]] = true
	}
	for _, name := range AlertmanagerScriptEnv {
		if !read[name] {
			t.Errorf("the contract says the Alertmanager's script reads %s; it does not", name)
		}
		delete(read, name)
	}
	for name := range read {
		t.Errorf("the Alertmanager's script reads %s, which taskcontract does not state (add it to AlertmanagerScriptEnv)", name)
	}
	for _, want := range []string{
		"${" + EnvAlertmanagerRuntimeDir + ":-" + AlertmanagerRuntimeDir + "}",
		"${" + EnvAlertmanagerStoragePath + ":-" + AlertmanagerStoragePath + "}",
		"--cluster.listen-address=",
		FlagStoragePath[:len("--storage.")],
	} {
		if !strings.Contains(AlertmanagerEntrypoint, want) {
			t.Errorf("alertmanager-entrypoint.sh lacks %q", want)
		}
	}
	if strings.Contains(AlertmanagerEntrypoint, EnvAlertmanagerConfigSHA256) {
		t.Errorf("%s only rolls the task; the script must not read it", EnvAlertmanagerConfigSHA256)
	}
}
