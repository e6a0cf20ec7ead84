package dashboards

// The labels promconfig's relabeling puts on every target of job node
// (instance is "<Name tag>/<instance id>").
const (
	nodeJob  = `job="node"`
	inScope  = nodeJob + `, region=~"$region", availability_zone=~"$zone"`
	selected = inScope + `, instance=~"$instance"`
	thisNode = nodeJob + `, instance=~"$instance"`
	realFS   = `, fstype!~"tmpfs|ramfs"` // as the alerting rules: memory-backed filesystems are NodeMemoryLow's
)

// byLabel is a panel of targets up and down per value of label.
func byLabel(title, label, noun string) panel {
	return panel{kind: timeSeries, width: 8, min: zero(),
		title:       title,
		description: "Node targets (job node) up and down per " + noun + " (label " + label + "), for the selected region and zone.",
		targets: []target{
			{`sum by (` + label + `) (up{` + inScope + `})`, "{{" + label + "}} up"},
			{`sum by (` + label + `) (1 - up{` + inScope + `})`, "{{" + label + "}} down"},
		}}
}

// fleet is the EC2 fleet: targets, the resources of every selected node,
// and a row per node.
func fleet() spec {
	return spec{
		uid: FleetUID, title: "prometheus-aws / EC2 fleet", file: "fleet.json", time: "6h",
		description: "The EC2 nodes Prometheus discovers (tag prometheus:scrape=true by default) and scrapes on node_exporter: " +
			"targets up and down by zone, region and instance type, then CPU, memory, disk, filesystems and network per node.",
		variables: []variable{
			{name: "region", label: "Region", selector: `up{` + nodeJob + `}`, labelName: "region"},
			{name: "zone", label: "Zone", selector: `up{` + nodeJob + `, region=~"$region"}`, labelName: "availability_zone"},
			{name: "instance", label: "Node", selector: `up{` + inScope + `}`, labelName: "instance"},
		},
		rows: []row{
			{title: "Targets", panels: []panel{
				{kind: statPanel, width: 12, title: "Targets up",
					description: "Node targets whose last scrape succeeded.",
					targets:     []target{{`sum(up{` + inScope + `}) or vector(0)`, ""}}},
				{kind: statPanel, width: 12, title: "Targets down", redAt: one(),
					description: "Node targets whose last scrape failed (NodeDown fires after 5 minutes).",
					targets:     []target{{`count(up{` + inScope + `} == 0) or vector(0)`, ""}}},
				byLabel("Targets by zone", "availability_zone", "availability zone"),
				byLabel("Targets by region", "region", "region"),
				byLabel("Targets by instance type", "instance_type", "instance type"),
				{kind: tablePanel, title: "Nodes", states: upDown, hide: []string{"Time", "__name__", "job"},
					description: "Every selected node target: its Name tag and id, region, zone and instance type, and whether the last scrape succeeded.",
					targets:     []target{{`up{` + selected + `}`, ""}}},
			}},
			{title: "Resources per node", panels: []panel{
				{kind: timeSeries, title: "CPU busy", unit: "percentunit", min: zero(),
					description: "Share of all cores not idle, per node (NodeHighCPU fires above 90% for 15 minutes).",
					targets:     []target{{`1 - avg by (instance) (rate(node_cpu_seconds_total{` + selected + `, mode="idle"}[5m]))`, "{{instance}}"}}},
				{kind: timeSeries, title: "Memory used", unit: "percentunit", min: zero(),
					description: "Share of memory not available (MemAvailable counts reclaimable cache; NodeMemoryLow fires below 10% available).",
					targets: []target{{`1 - node_memory_MemAvailable_bytes{` + selected + `} / node_memory_MemTotal_bytes{` + selected + `}`,
						"{{instance}}"}}},
				{kind: timeSeries, title: "Disk I/O", unit: "Bps", min: zero(),
					description: "Bytes read from and written to the node's block devices.",
					targets: []target{
						{`sum by (instance) (rate(node_disk_read_bytes_total{` + selected + `}[5m]))`, "{{instance}} read"},
						{`sum by (instance) (rate(node_disk_written_bytes_total{` + selected + `}[5m]))`, "{{instance}} written"},
					}},
				{kind: timeSeries, title: "Network", unit: "Bps", min: zero(),
					description: "Bytes received and sent per node and interface (loopback shown as its own line).",
					targets: []target{
						{`sum by (instance, device) (rate(node_network_receive_bytes_total{` + selected + `}[5m]))`, "{{instance}} {{device}} received"},
						{`sum by (instance, device) (rate(node_network_transmit_bytes_total{` + selected + `}[5m]))`, "{{instance}} {{device}} sent"},
					}},
				{kind: timeSeries, title: "Filesystem space used", unit: "percentunit", min: zero(),
					description: "Share of each filesystem in use (NodeFilesystemAlmostFull fires below 10% available, NodeFilesystemFull below 5%).",
					targets: []target{{`1 - node_filesystem_avail_bytes{` + selected + realFS + `} / node_filesystem_size_bytes{` + selected + realFS + `}`,
						"{{instance}} {{mountpoint}}"}}},
				{kind: timeSeries, title: "Filesystem fill prediction (24h ahead)", unit: "percentunit", min: zero(),
					description: "Share of each filesystem in use 24 hours from now if it keeps filling as over the last 6 hours (predict_linear); 100% means full within a day.",
					targets: []target{{`1 - predict_linear(node_filesystem_avail_bytes{` + selected + realFS + `}[6h], 24 * 3600) / node_filesystem_size_bytes{` + selected + realFS + `}`,
						"{{instance}} {{mountpoint}}"}}},
			}},
			{title: "Node $instance", repeat: "instance", panels: []panel{
				{kind: timeSeries, title: "CPU by mode", unit: "percentunit", min: zero(),
					description: "Share of all cores per mode; steal is time a burstable instance was throttled (out of CPU credits).",
					targets:     []target{{`avg by (mode) (rate(node_cpu_seconds_total{` + thisNode + `, mode!="idle"}[5m]))`, "{{mode}}"}}},
				{kind: timeSeries, title: "Load average", min: zero(),
					description: "Run queue length over 1, 5 and 15 minutes, against the number of cores.",
					targets: []target{
						{`node_load1{` + thisNode + `}`, "1m"},
						{`node_load5{` + thisNode + `}`, "5m"},
						{`node_load15{` + thisNode + `}`, "15m"},
						{`count(node_cpu_seconds_total{` + thisNode + `, mode="idle"})`, "cores"},
					}},
				{kind: timeSeries, title: "Memory", unit: "bytes", min: zero(),
					description: "Memory in use and available (the nodes have no swap).",
					targets: []target{
						{`node_memory_MemTotal_bytes{` + thisNode + `} - node_memory_MemAvailable_bytes{` + thisNode + `}`, "used"},
						{`node_memory_MemAvailable_bytes{` + thisNode + `}`, "available"},
					}},
				{kind: timeSeries, title: "Disk I/O by device", unit: "Bps", min: zero(),
					description: "Bytes read and written per block device.",
					targets: []target{
						{`rate(node_disk_read_bytes_total{` + thisNode + `}[5m])`, "{{device}} read"},
						{`rate(node_disk_written_bytes_total{` + thisNode + `}[5m])`, "{{device}} written"},
					}},
				{kind: timeSeries, title: "Filesystems: used now and in 24h", unit: "percentunit", min: zero(),
					description: "Share of each filesystem in use now, and 24 hours ahead at the rate of the last 6 hours (predict_linear).",
					targets: []target{
						{`1 - node_filesystem_avail_bytes{` + thisNode + realFS + `} / node_filesystem_size_bytes{` + thisNode + realFS + `}`, "{{mountpoint}} now"},
						{`1 - predict_linear(node_filesystem_avail_bytes{` + thisNode + realFS + `}[6h], 24 * 3600) / node_filesystem_size_bytes{` + thisNode + realFS + `}`, "{{mountpoint}} in 24h"},
					}},
				{kind: timeSeries, title: "Network by interface", unit: "Bps", min: zero(),
					description: "Bytes received and sent per network interface.",
					targets: []target{
						{`rate(node_network_receive_bytes_total{` + thisNode + `}[5m])`, "{{device}} received"},
						{`rate(node_network_transmit_bytes_total{` + thisNode + `}[5m])`, "{{device}} sent"},
					}},
			}},
		},
	}
}
