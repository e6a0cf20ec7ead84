// Package taskcontract is the runtime contract of the Prometheus task's
// container: every name, flag, path, id and file that the ECS container
// definition (constructs.PrometheusFargateService), the entrypoint script,
// docker/Dockerfile and the generated configuration (promconfig) must agree
// on. It is pure Go and imports nothing of this module, so the constructs,
// promconfig and the tests can all state the contract from here; the tests
// of stacks and docker fail when the definition, the script or the
// Dockerfile drift from it.
package taskcontract

import _ "embed"

// Entrypoint is entrypoint.sh. The ECS task runs it inline on the
// unmodified official image (entryPoint EntryPointShell, command [script,
// ScriptName, flags...]); docker/Dockerfile copies the same file (docker/
// keeps a copy for its build context, a test keeps them equal).
//
//go:embed entrypoint.sh
var Entrypoint string

// The container.
const (
	// ContainerName is the name of the Prometheus container in the task.
	ContainerName = "prometheus"
	// UID and GID are the task user: nobody in the official image, which
	// owns its VOLUME /prometheus.
	UID = 65534
	GID = 65534
	// User is the container definition's user, UID:GID.
	User = "65534:65534"
	// ImageUser is the name docker/Dockerfile's USER gives UID.
	ImageUser = "nobody"
	// ScriptName is $0 of the inline script (sh -c script name flags...).
	ScriptName = "prometheus-entrypoint"
	// ScriptPath is where docker/Dockerfile copies the script.
	ScriptPath = "/etc/prometheus/entrypoint.sh"
	// Shell runs the script; the official image is busybox-based.
	Shell = "/bin/sh"
	// Binary is the Prometheus binary of the official image.
	Binary = "/bin/prometheus"
	// LogStreamPrefix names the task's log streams (prefix/container/task).
	LogStreamPrefix = "prometheus"
)

// Paths and volumes.
const (
	// RuntimeDir is where the entrypoint writes the delivered files: on a
	// tmpfs at its parent (the root filesystem is read-only).
	RuntimeDir = "/tmp/prometheus"
	// RuntimeTmpfsMiB sizes that tmpfs (the delivered configuration,
	// rules, web config and password: tens of KiB).
	RuntimeTmpfsMiB = 16
	// StoragePath is the TSDB folder, the data volume's mount point and
	// the official image's VOLUME.
	StoragePath = "/prometheus"
	// DataVolume names the task definition volume mounted at StoragePath.
	DataVolume = "data"
	// BakedConfig and BakedRules are the image's own files (used when
	// nothing is delivered).
	BakedConfig = "/etc/prometheus/prometheus.yml"
	BakedRules  = "/etc/prometheus/rules.yml"
)

// Files the entrypoint writes in RuntimeDir. The configuration's relative
// paths (rule_files, password_file) resolve against RuntimeDir.
const (
	ConfigFile = "prometheus.yml"
	RulesFile  = "rules.yml"
	// RulesDir holds the rule files the config-sync sidecar delivers, one
	// per rule group (RuleFilesGlob in rule_files); the entrypoint puts
	// RulesFile there when it delivers the rules itself.
	RulesDir               = "rules"
	RuleFilesGlob          = RulesDir + "/*.yml"
	WebConfigFile          = "web.yml"
	SelfScrapePasswordFile = "self-scrape-password"
)

// Environment the entrypoint reads. The container definition sets
// EnvConfigDir and EnvPort, and the web config and the password through ECS
// secrets when basic auth is on; the rest are the script's knobs with the
// defaults above (the *YAML variables deliver the files at start instead,
// for docker/'s image run by hand).
const (
	EnvConfigYAML        = "PROMETHEUS_CONFIG_YAML"
	EnvRulesYAML         = "PROMETHEUS_RULES_YAML"
	EnvWebConfigYAML     = "PROMETHEUS_WEB_CONFIG_YAML"
	EnvBasicAuthPassword = "PROMETHEUS_BASIC_AUTH_PASSWORD" // MachineUser's password (SecretMachinePasswordKey)
	EnvPort              = "PROMETHEUS_PORT"
	EnvReplica           = "PROMETHEUS_REPLICA"
	EnvRuntimeDir        = "PROMETHEUS_RUNTIME_DIR"
	EnvStoragePath       = "PROMETHEUS_STORAGE_PATH"
	EnvDefaultConfig     = "PROMETHEUS_DEFAULT_CONFIG"
	EnvDefaultRules      = "PROMETHEUS_DEFAULT_RULES"
	EnvBin               = "PROMETHEUS_BIN"
	EnvLockWaitSeconds   = "PROMETHEUS_LOCK_WAIT_SECONDS"
	EnvConfigDir         = "PROMETHEUS_CONFIG_DIR"
	EnvConfigWaitSeconds = "PROMETHEUS_CONFIG_WAIT_SECONDS"
	EnvContainerMetadata = "ECS_CONTAINER_METADATA_URI_V4"
)

// ScriptEnv are the variables the entrypoint reads; DefinitionOnlyEnv are
// set by the container definition and read by no script: none since the
// health checks need no credential (HealthCheckCommand, issue 34).
var (
	ScriptEnv = []string{
		EnvConfigYAML, EnvRulesYAML, EnvWebConfigYAML, EnvBasicAuthPassword, EnvPort, EnvReplica,
		EnvRuntimeDir, EnvStoragePath, EnvDefaultConfig, EnvDefaultRules, EnvBin, EnvContainerMetadata, EnvLockWaitSeconds,
		EnvConfigDir, EnvConfigWaitSeconds,
	}
	DefinitionOnlyEnv = []string{}
)

// Flags the entrypoint passes Prometheus, and the one the task adds.
const (
	FlagConfigFile    = "--config.file="
	FlagStoragePath   = "--storage.tsdb.path="
	FlagListenAddress = "--web.listen-address=:"
	FlagWebConfigFile = "--web.config.file="
	FlagRetention     = "--storage.tsdb.retention.time="
	// FlagAgent runs Prometheus in agent mode (storageMode=amp): scrape and
	// remote write only, a WAL instead of a TSDB, no rules, no query API.
	// The task passes it among the extra flags; the entrypoint then names
	// the storage folder with FlagAgentStoragePath, since Prometheus refuses
	// every --storage.tsdb.* flag in agent mode ("can not be used in agent
	// mode") and the other way round.
	FlagAgent            = "--agent"
	FlagAgentStoragePath = "--storage.agent.path="
	// FlagAutoReload and FlagAutoReloadInterval make Prometheus reload
	// when the configuration or a rule file it names changes (checksums,
	// every AutoReloadInterval); a file that fails to load leaves the
	// running configuration in place.
	FlagAutoReload         = "--config.auto-reload"
	FlagAutoReloadInterval = "--config.auto-reload-interval="
	AutoReloadInterval     = "10s"
)

// JSON keys of the basic auth secret (constructs' basic auth): the human
// user's name and password (SecretUsernameKey, SecretPasswordKey: for
// people, never given to a task), the machine credential's password
// (SecretMachinePasswordKey, user MachineUser: read into
// EnvBasicAuthPassword), and the web config listing both users with their
// bcrypt hashes (read into EnvWebConfigYAML and
// EnvAlertmanagerWebConfigYAML).
const (
	SecretUsernameKey        = "username"
	SecretPasswordKey        = "password"
	SecretMachinePasswordKey = "machine_password"
	SecretWebConfigKey       = "web_config"
)

// MachineUser is the basic-auth user the task's own clients authenticate
// as: Prometheus scraping itself and the bundled Alertmanager and sending
// it alerts (promconfig), and Grafana's Prometheus data source. Its
// password is generated beside the human user's, in the same secret, so
// that the task holds no password a person signs in with: whoever can
// change prometheus.yml (and so where the self-scrape's password_file is
// sent) learns this one at most (issue 34). The human user may not take
// this name (config's basicAuthUser refuses it).
const MachineUser = "prometheus-machine"

// WorkspaceIDPlaceholder stands for the AMP workspace id in the
// remote-write URL: the id exists only after apply, so the stack puts the
// workspace's Terraform reference in its place in the parameter value.
const WorkspaceIDPlaceholder = "AMP_WORKSPACE_ID"

// AccountIDPlaceholder stands for the deployment's AWS account id in the
// ECS cluster ARNs of the generated configuration (Prometheus's ECS
// discovery needs ARNs, and the settings name clusters): the construct puts
// the caller identity's Terraform reference in its place.
const AccountIDPlaceholder = "AWS_ACCOUNT_ID"

// AlertmanagerEntrypoint is alertmanager-entrypoint.sh, which the bundled
// Alertmanager container runs inline on the unmodified official image
// (entryPoint Shell -c, command [script, AlertmanagerScriptName, flags...]).
//
//go:embed alertmanager-entrypoint.sh
var AlertmanagerEntrypoint string

// The bundled Alertmanager container, the task's second (the alert
// delivery of storageMode efs and ephemeral).
const (
	// AlertmanagerContainerName names it in the task.
	AlertmanagerContainerName = "alertmanager"
	// AlertmanagerScriptName is $0 of its inline script.
	AlertmanagerScriptName = "alertmanager-entrypoint"
	// AlertmanagerRuntimeDir is where its script writes the delivered
	// files, on the tmpfs at its parent (read-only root filesystem).
	AlertmanagerRuntimeDir = "/tmp/alertmanager"
	// AlertmanagerStoragePath holds silences and the notification log:
	// the official image's VOLUME, and the mount point of
	// AlertmanagerVolume.
	AlertmanagerStoragePath = "/alertmanager"
	// AlertmanagerVolume names the task definition volume mounted there
	// (an EFS access point of its own with storageMode efs).
	AlertmanagerVolume = "alertmanager"
	// AlertmanagerRoutePrefix is the path it serves under, everywhere
	// (--web.route-prefix): on the load balancer, beside Prometheus at /,
	// and on its own port, so one URL shape works in every mode.
	AlertmanagerRoutePrefix = "/alertmanager"
	// FlagRoutePrefix and FlagExternalURL are the flags the task adds.
	FlagRoutePrefix = "--web.route-prefix="
	FlagExternalURL = "--web.external-url="
	// AlertmanagerLogStreamPrefix keeps its log streams under the task's
	// prefix (prefix/container/task), where the execution role may write.
	AlertmanagerLogStreamPrefix = LogStreamPrefix
)

// Environment the Alertmanager script reads. It gets no password: its
// web config (both users' hashes) is all it needs to check Prometheus's
// machine credential and people's, and its health check sends none.
const (
	EnvAlertmanagerConfigDir     = "ALERTMANAGER_CONFIG_DIR"
	EnvAlertmanagerWebConfigYAML = "ALERTMANAGER_WEB_CONFIG_YAML"
	EnvAlertmanagerRuntimeDir    = "ALERTMANAGER_RUNTIME_DIR"
	EnvAlertmanagerStoragePath   = "ALERTMANAGER_STORAGE_PATH"
	EnvAlertmanagerPort          = "ALERTMANAGER_PORT"
	EnvAlertmanagerBin           = "ALERTMANAGER_BIN"
	EnvAlertmanagerReloadSeconds = "ALERTMANAGER_RELOAD_CHECK_SECONDS"
	EnvAlertmanagerWaitSeconds   = "ALERTMANAGER_CONFIG_WAIT_SECONDS"
)

// AlertmanagerScriptEnv are the variables its script reads.
var AlertmanagerScriptEnv = []string{
	EnvAlertmanagerConfigDir, EnvAlertmanagerWebConfigYAML, EnvAlertmanagerRuntimeDir,
	EnvAlertmanagerStoragePath, EnvAlertmanagerPort, EnvAlertmanagerBin,
	EnvAlertmanagerReloadSeconds, EnvAlertmanagerWaitSeconds,
}

// AlertmanagerConfigFile is alertmanager.yml, delivered by the config-sync
// sidecar into ConfigDir.
const AlertmanagerConfigFile = "alertmanager.yml"

// DeliveryFailedLog is what the Alertmanager logs (its msg field) when it
// gives up on a notification after its retries (dispatch.go, "Notify for
// alerts failed"); a CloudWatch metric filter counts it
// (constructs.ServiceAlarms), and e2e/faults_delivery_test.go checks the real
// Alertmanager still logs it.
const DeliveryFailedLog = "Notify for alerts failed"

// ConfigSyncRoundFailedLog is what config-sync.sh logs once per round in
// which any file could not be brought up to date (SSM throttling or
// failing, a parameter missing or unreadable); a CloudWatch metric filter
// counts it (constructs.ServiceAlarms, the config-sync-failing alarm), and
// e2e/faults_api_ssm_test.go checks the sidecar logs it under the fault.
const ConfigSyncRoundFailedLog = "config-sync: round failed"

// ConfigSyncScript is config-sync.sh, which the config-sync sidecar runs
// inline on the unmodified AWS CLI v2 image (entryPoint Shell -c, command
// [script, ConfigSyncScriptName]).
//
//go:embed config-sync.sh
var ConfigSyncScript string

// The config-sync sidecar: it keeps the generated files (prometheus.yml,
// the rule files, alertmanager.yml) in ConfigDir equal to the SSM
// parameters that hold them, so a change reaches the running task without
// a new task definition; Prometheus reloads on its own
// (FlagAutoReload), the Alertmanager's script sends it SIGHUP.
const (
	ConfigSyncContainerName = "config-sync"
	ConfigSyncScriptName    = "config-sync"
	// ConfigVolume is the task volume (a bind mount, task storage) shared
	// by the sidecar (read-write, as root: Fargate creates it root-owned
	// 0755) and the readers (read-only), at ConfigDir in each.
	ConfigVolume = "config"
	ConfigDir    = "/config"
	// SyncedMarker is the file the sidecar writes into ConfigDir once
	// every file has arrived; the readers wait for it.
	SyncedMarker = ".synced"
	// ConfigSyncIntervalSeconds is how often the sidecar asks SSM for the
	// parameters' versions; with AutoReloadInterval (and the Alertmanager's
	// check, AlertmanagerReloadCheckSeconds) it bounds the time from an
	// apply to the new configuration being served: ConfigLiveBoundSeconds.
	ConfigSyncIntervalSeconds      = 15
	AlertmanagerReloadCheckSeconds = 10
	ConfigLiveBoundSeconds         = 30
	// ConfigWaitSeconds bounds the readers' wait for the first sync.
	ConfigWaitSeconds = 120
	// ConfigSyncHome is the sidecar's HOME (the CLI's cache), a tmpfs of
	// RuntimeTmpfsMiB mounted with ConfigSyncHomeOptions.
	ConfigSyncHome = "/tmp"
)

// ConfigSyncHomeOptions mount the sidecar's HOME: nosuid and nodev but
// not noexec, unlike the other containers' scratch space. AWS CLI v2 fails
// at start (MemoryError in ctypes) when its temporary folder is noexec and
// the kernel refuses anonymous executable memory (aws/aws-cli#5047,
// #5909); a newer pinned image must not stop the task for that.
func ConfigSyncHomeOptions() []string { return []string{"nosuid", "nodev"} }

// Environment of the sidecar's script.
const (
	EnvConfigSyncDir      = "CONFIG_SYNC_DIR"
	EnvConfigSyncFiles    = "CONFIG_SYNC_FILES" // lines "<file in the dir> <parameter name>"
	EnvConfigSyncInterval = "CONFIG_SYNC_INTERVAL_SECONDS"
	// EnvConfigSyncEndpointURL is set by the local profile alone: the
	// emulator's endpoint, for the local runner's AWS CLI, which predates
	// AWS_ENDPOINT_URL (internal/fargate's named exception).
	EnvConfigSyncEndpointURL = "CONFIG_SYNC_ENDPOINT_URL"
)

// ConfigSyncScriptEnv are the variables its script reads.
var ConfigSyncScriptEnv = []string{EnvConfigSyncDir, EnvConfigSyncFiles, EnvConfigSyncInterval, EnvConfigSyncEndpointURL}

// TopicARNPlaceholder stands for the alarm topic's ARN in the Alertmanager
// configuration when the stack creates the topic: the ARN exists only after
// apply, so the stack puts the topic's Terraform reference in its place.
const TopicARNPlaceholder = "ALERT_TOPIC_ARN"

// PrometheusURLPlaceholder stands for the load balancer's URL (its DNS name
// exists only after apply) where the Alertmanager's messages link to
// Prometheus.
const PrometheusURLPlaceholder = "PROMETHEUS_PUBLIC_URL"

// HealthCheckCommand is a container health check (CMD-SHELL) of the HTTP
// endpoint url on the task's loopback that needs no credential: it takes
// 200 (basic auth off) and 401 (basic auth on: the server answered, as the
// load balancer's check accepts) as up, anything else, a refused
// connection or no answer within 4 s as down. busybox wget -S prints the
// status line on stderr for every answer, errors included; the call is
// bounded with timeout, not wget -T (Debian's busybox-static 1.35, the local
// runner's, crashes on -T). No password is in any process's arguments or
// environment because of it.
func HealthCheckCommand(url string) string {
	return "timeout 4 wget -S -O /dev/null " + url + " 2>&1 | grep -qE '^ *HTTP/[0-9.]+ (200|401) ' || exit 1"
}
