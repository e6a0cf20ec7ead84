package dashboards

// Selectors of the self-scrape (job prometheus) and of the bundled
// Alertmanager (job alertmanager), as promconfig generates them.
const (
	self = `job="prometheus"`
	am   = `job="alertmanager"`
)

// prometheusItself is Prometheus's own health: ingestion, discovery,
// scrapes, rules, TSDB and WAL, configuration, remote write (amp) and the
// alert path to the bundled Alertmanager.
func prometheusItself() spec {
	return spec{
		uid: PrometheusUID, title: "prometheus-aws / Prometheus", file: "prometheus.json", time: "6h",
		description: "Prometheus itself, from its self-scrape (job prometheus) and the bundled Alertmanager's (job alertmanager): " +
			"ingestion, EC2 discovery, scrapes, rule evaluation, TSDB and WAL, configuration reloads, remote write (storageMode=amp) and notifications.",
		rows: []row{
			{title: "Health", panels: []panel{
				{kind: statPanel, title: "Samples appended/s",
					description: "Samples written to the TSDB head per second, over 5 minutes.",
					targets:     []target{{`sum(rate(prometheus_tsdb_head_samples_appended_total{` + self + `}[5m]))`, ""}}},
				{kind: statPanel, title: "Head series",
					description: "Series in the in-memory head block: the main driver of memory use (the task has 1 GiB by default).",
					targets:     []target{{`max(prometheus_tsdb_head_series{` + self + `})`, ""}}},
				{kind: statPanel, title: "Configuration reload", states: okFailed,
					description: "Whether the last configuration reload succeeded (PrometheusConfigReloadFailed fires after 10 minutes of failure).",
					targets:     []target{{`min(prometheus_config_last_reload_successful{` + self + `})`, ""}}},
				{kind: statPanel, title: "Targets down", redAt: one(),
					description: "Targets of every job whose last scrape failed.",
					targets:     []target{{`count(up == 0) or vector(0)`, ""}}},
			}},
			{title: "Ingestion", panels: []panel{
				{kind: timeSeries, title: "Samples appended/s", min: zero(),
					description: "Samples written to the TSDB head per second.",
					targets:     []target{{`sum by (instance) (rate(prometheus_tsdb_head_samples_appended_total{` + self + `}[5m]))`, "{{instance}}"}}},
				{kind: timeSeries, title: "Head series", min: zero(),
					description: "Series in the in-memory head block.",
					targets:     []target{{`prometheus_tsdb_head_series{` + self + `}`, "{{instance}}"}}},
			}},
			{title: "EC2 discovery", panels: []panel{
				{kind: timeSeries, title: "EC2 discovery refreshes and failures (last hour)", min: zero(),
					description: "EC2 service discovery refreshes (every refreshInterval) and failed ones per hour; PrometheusEC2DiscoveryFailing fires when failures keep coming for 15 minutes.",
					targets: []target{
						{`sum by (config) (increase(prometheus_sd_refresh_duration_seconds_count{` + self + `, mechanism="ec2"}[1h]))`, "{{config}} refreshes"},
						{`sum by (config) (increase(prometheus_sd_refresh_failures_total{` + self + `, mechanism="ec2"}[1h]))`, "{{config}} failures"},
					}},
				{kind: timeSeries, title: "EC2 discovery duration (p99)", unit: "s", min: zero(),
					description: "How long a DescribeInstances refresh takes, 99th percentile.",
					targets:     []target{{`max by (config) (prometheus_sd_refresh_duration_seconds{` + self + `, mechanism="ec2", quantile="0.99"})`, "{{config}}"}}},
				{kind: timeSeries, title: "Discovered targets", min: zero(),
					description: "Targets each scrape job's discovery returns, before relabeling drops any.",
					targets:     []target{{`sum by (config) (prometheus_sd_discovered_targets{` + self + `})`, "{{config}}"}}},
			}},
			{title: "Scrapes", panels: []panel{
				{kind: timeSeries, title: "Scrape duration by job (slowest target)", unit: "s", min: zero(),
					description: "The longest scrape of each job's targets.",
					targets:     []target{{`max by (job) (scrape_duration_seconds)`, "{{job}}"}}},
				{kind: timeSeries, title: "Failed scrapes by job (last 5 minutes)", min: zero(),
					description: "Scrapes that failed over the last 5 minutes, per job.",
					targets:     []target{{`sum by (job) (count_over_time(up[5m]) - sum_over_time(up[5m]))`, "{{job}}"}}},
				{kind: timeSeries, title: "Samples scraped by job", min: zero(),
					description: "Samples each job's targets expose per scrape.",
					targets:     []target{{`sum by (job) (scrape_samples_scraped)`, "{{job}}"}}},
			}},
			{title: "Rules", panels: []panel{
				{kind: timeSeries, title: "Rule group evaluation duration", unit: "s", min: zero(), needs: NeedsTaskRules,
					description: "How long the last evaluation of each rule group took.",
					targets:     []target{{`max by (rule_group) (prometheus_rule_group_last_duration_seconds{` + self + `})`, "{{rule_group}}"}}},
				{kind: timeSeries, title: "Rule evaluation failures and missed iterations (last 5 minutes)", min: zero(), needs: NeedsTaskRules,
					description: "Rule evaluations that failed, and evaluations skipped because the previous one ran too long.",
					targets: []target{
						{`sum by (rule_group) (increase(prometheus_rule_evaluation_failures_total{` + self + `}[5m]))`, "{{rule_group}} failed"},
						{`sum by (rule_group) (increase(prometheus_rule_group_iterations_missed_total{` + self + `}[5m]))`, "{{rule_group}} missed"},
					}},
			}},
			{title: "TSDB and WAL", panels: []panel{
				{kind: timeSeries, title: "Compactions (last hour)", min: zero(),
					description: "TSDB compactions, failed compactions and failed head truncations per hour (PrometheusTSDBCompactionsFailing fires when failures go on for 4 hours).",
					targets: []target{
						{`sum(increase(prometheus_tsdb_compactions_total{` + self + `}[1h]))`, "compactions"},
						{`sum(increase(prometheus_tsdb_compactions_failed_total{` + self + `}[1h]))`, "failed compactions"},
						{`sum(increase(prometheus_tsdb_head_truncations_failed_total{` + self + `}[1h]))`, "failed head truncations"},
					}},
				{kind: timeSeries, title: "WAL fsyncs, failed writes and corruptions (last hour)", min: zero(),
					description: "Write-ahead log fsyncs (one per completed segment), failed writes and corruptions per hour.",
					targets: []target{
						{`sum(increase(prometheus_tsdb_wal_fsync_duration_seconds_count{` + self + `}[1h]))`, "fsyncs"},
						{`sum(increase(prometheus_tsdb_wal_writes_failed_total{` + self + `}[1h]))`, "failed writes"},
						{`sum(increase(prometheus_tsdb_wal_corruptions_total{` + self + `}[1h]))`, "corruptions"},
					}},
				{kind: timeSeries, title: "Time spent in WAL fsync (last hour)", unit: "s", min: zero(),
					description: "Seconds spent in fsync of the write-ahead log per hour: slow storage (EFS) shows here first.",
					targets:     []target{{`sum(increase(prometheus_tsdb_wal_fsync_duration_seconds_sum{` + self + `}[1h]))`, "fsync"}}},
				{kind: timeSeries, title: "Head chunks", min: zero(),
					description: "Chunks in the in-memory head block.",
					targets:     []target{{`prometheus_tsdb_head_chunks{` + self + `}`, "{{instance}}"}}},
				{kind: timeSeries, title: "Storage size", unit: "bytes", min: zero(),
					description: "Bytes on the storage volume: persisted blocks, the write-ahead log and the head's memory-mapped chunks.",
					targets: []target{
						{`prometheus_tsdb_storage_blocks_bytes{` + self + `}`, "blocks"},
						{`prometheus_tsdb_wal_storage_size_bytes{` + self + `}`, "WAL"},
						{`prometheus_tsdb_head_chunks_storage_size_bytes{` + self + `}`, "head chunks"},
					}},
				{kind: timeSeries, title: "Configuration reloads", min: zero(), states: okFailed,
					description: "Whether the last configuration reload succeeded (1) or failed (0); the configuration is reloaded in place when a setting changes.",
					targets:     []target{{`prometheus_config_last_reload_successful{` + self + `}`, "{{instance}}"}}},
			}},
			{title: "Remote write (storageMode=amp)", panels: []panel{
				{kind: timeSeries, title: "Remote write lag", unit: "s", min: zero(), needs: NeedsAMP,
					description: "Newest sample appended minus newest sample sent, per remote write queue (PrometheusRemoteWriteBehind fires above 2 minutes).",
					targets: []target{{`max_over_time(prometheus_remote_storage_highest_timestamp_in_seconds{` + self + `}[5m])` +
						` - ignoring (remote_name, url) group_right max_over_time(prometheus_remote_storage_queue_highest_sent_timestamp_seconds{` + self + `}[5m])`,
						"{{remote_name}}"}}},
				{kind: timeSeries, title: "Remote write failures", min: zero(), needs: NeedsAMP,
					description: "Samples per second the remote store refused (failed) or that were sent again (retried).",
					targets: []target{
						{`sum by (remote_name) (rate(prometheus_remote_storage_samples_failed_total{` + self + `}[5m]))`, "{{remote_name}} failed"},
						{`sum by (remote_name) (rate(prometheus_remote_storage_samples_retried_total{` + self + `}[5m]))`, "{{remote_name}} retried"},
					}},
				{kind: timeSeries, title: "Remote write shards", min: zero(), needs: NeedsAMP,
					description: "Shards sending to the remote store, and the maximum allowed.",
					targets: []target{
						{`prometheus_remote_storage_shards{` + self + `}`, "{{remote_name}} shards"},
						{`prometheus_remote_storage_shards_max{` + self + `}`, "{{remote_name}} max"},
					}},
			}},
			{title: "Alert delivery", panels: []panel{
				{kind: timeSeries, title: "Alerts sent by Prometheus", min: zero(), needs: NeedsTaskRules,
					description: "Alerts Prometheus sent to its Alertmanagers per second, the sends that failed and the alerts dropped.",
					targets: []target{
						{`sum(rate(prometheus_notifications_sent_total{` + self + `}[5m]))`, "sent"},
						{`sum(rate(prometheus_notifications_errors_total{` + self + `}[5m]))`, "errors"},
						{`sum(rate(prometheus_notifications_dropped_total{` + self + `}[5m]))`, "dropped"},
					}},
				{kind: timeSeries, title: "Alertmanager notifications", min: zero(), needs: NeedsBundledAlertmanager,
					description: "Notifications the bundled Alertmanager sent (to the SNS topic) per second, and the ones that failed.",
					targets: []target{
						{`sum(rate(alertmanager_notifications_total{` + am + `}[5m]))`, "sent"},
						{`sum(rate(alertmanager_notifications_failed_total{` + am + `}[5m]))`, "failed"},
					}},
				{kind: statPanel, title: "Failed notifications (last 24 hours)", redAt: one(), needs: NeedsBundledAlertmanager,
					description: "Notifications the bundled Alertmanager could not deliver over the last day: each is an alert nobody received.",
					targets:     []target{{`sum(increase(alertmanager_notifications_failed_total{` + am + `}[24h]))`, ""}}},
				{kind: statPanel, title: "Alertmanager configuration reload", states: okFailed, needs: NeedsBundledAlertmanager,
					description: "Whether the bundled Alertmanager's last configuration reload succeeded.",
					targets:     []target{{`min(alertmanager_config_last_reload_successful{` + am + `})`, ""}}},
			}},
		},
	}
}
