package cost

// LookedUp is when the prices below were looked up.
const LookedUp = "2026-12-07"

// Price is one AWS list price, in US dollars, as data: what it is, the
// region the figure is for, the AWS page that publishes it, and what the
// lookup found. AWS's pricing pages draw their regional tables in the
// browser, so the lookup mostly found the figures quoted elsewhere; Check
// marks every figure not read off AWS's own table for eu-central-1.
type Price struct {
	What   string
	USD    float64
	Unit   string
	Region string
	Source string
	// Found is what the lookup showed, and where.
	Found string
	Check bool
}

// Tier is one step of a tiered price: Price applies to the units above the
// previous tier's UpTo and up to this UpTo (0: no limit).
type Tier struct {
	UpTo  float64
	Price Price
}

// Prices is the price list the model reads.
type Prices struct {
	FargateVCPU, FargateGB                        Price
	EFSStorage, EFSRead, EFSWrite, EFSBackup      Price
	EFSProvisioned                                Price
	AMPIngest                                     []Tier
	AMPStorage, AMPQuery                          Price
	CustomMetric, Alarm                           Price
	Secret, SSMAdvanced, SSMAdvancedAPI           Price
	PublicIPv4                                    Price
	ALB                                           Price
	NATGateway, NATData, Endpoint, EndpointData   Price
	DemoInstance, DemoVolume                      Price
	CloudWatchOTLPIngest, CloudWatchCollectorHour Price
}

// Source pages.
const (
	fargatePage    = "https://aws.amazon.com/fargate/pricing/"
	efsPage        = "https://aws.amazon.com/efs/pricing/"
	backupPage     = "https://aws.amazon.com/backup/pricing/"
	ampPage        = "https://aws.amazon.com/prometheus/pricing/"
	cloudWatchPage = "https://aws.amazon.com/cloudwatch/pricing/"
	secretsPage    = "https://aws.amazon.com/secrets-manager/pricing/"
	ssmPage        = "https://aws.amazon.com/systems-manager/pricing/"
	vpcPage        = "https://aws.amazon.com/vpc/pricing/"
	elbPage        = "https://aws.amazon.com/elasticloadbalancing/pricing/"
	privateLink    = "https://aws.amazon.com/privatelink/pricing/"
	ec2Page        = "https://aws.amazon.com/ec2/pricing/on-demand/"
	ebsPage        = "https://aws.amazon.com/ebs/pricing/"
)

const (
	fromPage    = "the previous docs/cost.md (eu-central-1, 2026-11); not found in this lookup"
	usEast1Only = "us-east-1 figure, quoted from the AWS page by a secondary source; the eu-central-1 figure was not found"
)

// List is the price list of docs/cost.md: eu-central-1 where a figure for
// it was found or carried over, us-east-1 (said so) where only that was.
var List = Prices{
	FargateVCPU: Price{What: "Fargate vCPU, Linux/x86", USD: 0.04656, Unit: "vCPU-hour", Region: "eu-central-1", Source: fargatePage,
		Found: fromPage + "; us-east-1 $0.04048 quoted from the AWS page by secondary sources", Check: true},
	FargateGB: Price{What: "Fargate memory, Linux/x86", USD: 0.00511, Unit: "GB-hour", Region: "eu-central-1", Source: fargatePage,
		Found: fromPage + "; us-east-1 $0.004445 quoted from the AWS page by secondary sources", Check: true},

	EFSStorage: Price{What: "EFS Standard storage (Regional)", USD: 0.36, Unit: "GB-month", Region: "eu-central-1", Source: efsPage,
		Found: fromPage + "; the AWS page showed $0.30 (us-east-1)", Check: true},
	EFSRead: Price{What: "EFS Elastic Throughput, reads", USD: 0.03, Unit: "GB transferred", Region: "us-east-1", Source: efsPage,
		Found: usEast1Only, Check: true},
	EFSWrite: Price{What: "EFS Elastic Throughput, writes", USD: 0.06, Unit: "GB transferred", Region: "us-east-1", Source: efsPage,
		Found: usEast1Only, Check: true},
	EFSProvisioned: Price{What: "EFS Provisioned Throughput, above what the storage allows in Bursting", USD: 6.00, Unit: "MB/s-month", Region: "us-east-1", Source: efsPage,
		Found: "us-east-1 figure, quoted by secondary sources (a book and a cost guide); the eu-central-1 figure was not found", Check: true},
	EFSBackup: Price{What: "AWS Backup, EFS warm backup storage", USD: 0.05, Unit: "GB-month", Region: "us-east-1", Source: backupPage,
		Found: usEast1Only, Check: true},

	// Tiers by the account's samples ingested in the month (the model
	// assumes this workspace is the account's only one).
	AMPIngest: []Tier{
		{UpTo: 2e9, Price: Price{What: "AMP samples ingested, first 2 billion", USD: 0.90, Unit: "10 million samples", Region: "us-east-1", Source: ampPage,
			Found: usEast1Only + "; the previous docs/cost.md used it for eu-central-1", Check: true}},
		{UpTo: 252e9, Price: Price{What: "AMP samples ingested, next 250 billion", USD: 0.35, Unit: "10 million samples", Region: "us-east-1", Source: ampPage,
			Found: usEast1Only, Check: true}},
		{UpTo: 0, Price: Price{What: "AMP samples ingested, over 252 billion", USD: 0.16, Unit: "10 million samples", Region: "us-east-1", Source: ampPage,
			Found: usEast1Only, Check: true}},
	},
	AMPStorage: Price{What: "AMP metrics storage", USD: 0.03, Unit: "GB-month", Region: "us-east-1", Source: ampPage, Found: usEast1Only, Check: true},
	AMPQuery:   Price{What: "AMP query samples processed", USD: 0.10, Unit: "billion samples", Region: "us-east-1", Source: ampPage, Found: usEast1Only, Check: true},

	CustomMetric: Price{What: "CloudWatch custom metric (Container Insights bills as these), first 10,000", USD: 0.30, Unit: "metric-month", Region: "eu-central-1", Source: cloudWatchPage,
		Found: fromPage, Check: true},
	Alarm: Price{What: "CloudWatch alarm, standard resolution", USD: 0.10, Unit: "alarm-month", Region: "eu-central-1", Source: cloudWatchPage,
		Found: fromPage, Check: true},

	Secret: Price{What: "Secrets Manager secret", USD: 0.40, Unit: "secret-month", Region: "all regions", Source: secretsPage,
		Found: "the previous docs/cost.md; the same figure quoted by secondary sources", Check: true},
	SSMAdvanced: Price{What: "SSM Parameter Store, Advanced parameter", USD: 0.05, Unit: "parameter-month", Region: "all regions", Source: ssmPage,
		Found: "the previous docs/cost.md; the same figure quoted by secondary sources", Check: true},
	SSMAdvancedAPI: Price{What: "SSM Parameter Store, API interactions with Advanced parameters", USD: 0.05, Unit: "10,000 interactions", Region: "all regions", Source: ssmPage,
		Found: fromPage, Check: true},

	PublicIPv4: Price{What: "Public IPv4 address (in use or idle)", USD: 0.005, Unit: "address-hour", Region: "all regions", Source: vpcPage,
		Found: "the previous docs/cost.md; the same figure, charged since 2024-02-01, quoted by secondary sources", Check: true},

	ALB: Price{What: "Application Load Balancer", USD: 0.0225, Unit: "hour", Region: "us-east-1", Source: elbPage,
		Found: usEast1Only + "; LCUs (per LCU-hour) not found, and not modelled", Check: true},

	NATGateway: Price{What: "NAT gateway", USD: 0.052, Unit: "gateway-hour", Region: "eu-central-1", Source: vpcPage,
		Found: fromPage + "; us-east-1 $0.045 quoted by a secondary source", Check: true},
	NATData: Price{What: "NAT gateway data processed", USD: 0.052, Unit: "GB", Region: "eu-central-1", Source: vpcPage, Found: fromPage, Check: true},
	Endpoint: Price{What: "Interface VPC endpoint", USD: 0.012, Unit: "endpoint-zone-hour", Region: "eu-central-1", Source: privateLink,
		Found: fromPage, Check: true},
	EndpointData: Price{What: "Interface VPC endpoint data processed", USD: 0.01, Unit: "GB", Region: "eu-central-1", Source: privateLink, Found: fromPage, Check: true},

	DemoInstance: Price{What: "EC2 t3.micro, Linux, on demand", USD: 0.012, Unit: "instance-hour", Region: "eu-central-1", Source: ec2Page,
		Found: "derived from the previous docs/cost.md total (2 × t3.micro ≈ $17.5 a month)", Check: true},
	DemoVolume: Price{What: "EBS gp3 volume", USD: 0.094, Unit: "GB-month", Region: "eu-central-1", Source: ebsPage,
		Found: "derived from the previous docs/cost.md total (2 × 8 GiB ≈ $1.5 a month)", Check: true},

	// The managed alternative: per collector-hour and per GB of OTLP data
	// points ingested (Amazon CloudWatch User Guide, "Amazon CloudWatch
	// managed Prometheus collectors" and "OTel metrics pricing and
	// storage"). The lookup found the units but neither figure; USD 0
	// means unknown, and the page states the price at which it would match
	// this stack instead.
	CloudWatchOTLPIngest: Price{What: "CloudWatch OpenTelemetry metrics ingested (managed Prometheus collectors deliver to it)", Unit: "GB of serialized data points",
		Region: "eu-central-1", Source: cloudWatchPage, Found: "the unit (per GB ingested, 15 months of storage included) in the CloudWatch User Guide; the figure not found", Check: true},
	CloudWatchCollectorHour: Price{What: "CloudWatch managed Prometheus collector", Unit: "collector-hour", Region: "eu-central-1", Source: cloudWatchPage,
		Found: "the unit (charged per hour) in the CloudWatch User Guide; the figure not found", Check: true},
}

// All lists every price, in the order the page shows them.
func (p Prices) All() []Price {
	out := []Price{p.FargateVCPU, p.FargateGB, p.EFSStorage, p.EFSRead, p.EFSWrite, p.EFSProvisioned, p.EFSBackup}
	for _, t := range p.AMPIngest {
		out = append(out, t.Price)
	}
	return append(out, p.AMPStorage, p.AMPQuery, p.CustomMetric, p.Alarm, p.Secret, p.SSMAdvanced, p.SSMAdvancedAPI,
		p.PublicIPv4, p.ALB, p.NATGateway, p.NATData, p.Endpoint, p.EndpointData, p.DemoInstance, p.DemoVolume,
		p.CloudWatchOTLPIngest, p.CloudWatchCollectorHour)
}

// tiered is the charge for units under tiers priced per unitSize units.
func tiered(units, unitSize float64, tiers []Tier) float64 {
	var total, from float64
	for _, t := range tiers {
		upTo := t.UpTo
		if upTo == 0 || units < upTo {
			upTo = units
		}
		if upTo > from {
			total += (upTo - from) / unitSize * t.Price.USD
		}
		if t.UpTo == 0 || units <= t.UpTo {
			break
		}
		from = t.UpTo
	}
	return total
}
