// Package fargate runs ECS task definitions the way AWS Fargate runs
// them, without a Docker engine: the local Fargate runner of the emulator
// harness. The emulator (moto) registers task definitions and services but
// runs no container, so without this nothing would ever start the task
// the stack synthesizes. The runner takes the task definition as the
// emulator holds it after terraform apply (DescribeTaskDefinition: the
// JSON ECS would receive) and runs every container with runc, the OCI
// runtime (oci.go writes each container's bundle with the runtime-spec Go
// types), as real root (no user namespace, so file owners behave as on
// Fargate), inside the loopback-only namespace of scripts/netns.sh. What
// ECS means by a task definition (validation, dependsOn, essential,
// secrets, the endpoints, health checks, how a stop is reported) is this
// package's; what any container runtime does is runc's.
//
// What it reproduces, from the ECS developer guide:
//
//   - Images as local replicas built from each image's own recipe
//     (Images, Dockerfile, Busybox; Catalog for this product): the official
//     Prometheus image from its Dockerfile in the Go module cache (the
//     version its tag names) with the static binaries make tools builds,
//     and the official Alertmanager image likewise (its Dockerfile in the
//     Go module cache, the alertmanager and amtool make tools builds),
//     on a replica of the Prometheus busybox base (Debian's busybox-static,
//     the official busybox image's /etc/passwd and /etc/group, /tmp 1777,
//     /etc/ssl/certs/ca-certificates.crt). Paths, owners and modes (the
//     Dockerfile's RUN chown runs in the replica), USER, WORKDIR, ENV,
//     VOLUME, ENTRYPOINT and CMD are the image's. The one exception, the
//     AWS CLI image of the config-sync sidecar, is unpacked from Debian's
//     packages instead (DebianPackages; see below).
//   - The container: user (uid, uid:gid or names resolved in the image's
//     passwd and group files, supplementary groups included),
//     readonlyRootFilesystem, workingDirectory, entryPoint and command with
//     Docker's merge rule, environment, Docker's default capabilities,
//     PID 1 semantics (a shell without a trap ignores SIGTERM), a hostname
//     of Fargate's form, Fargate's open-files limit (65535).
//   - The task size as Fargate enforces it (cgroup package): the task's
//     memory a hard limit on all its containers together, its cpu a CFS
//     quota, each container's memory, memoryReservation and cpu below
//     them; a container the kernel kills for memory is reported as ECS
//     reports it (exit 137, reason OutOfMemoryError: Container killed due
//     to memory usage) and, essential, stops the task.
//   - secrets read with the execution role's credentials from the
//     emulator's SSM and Secrets Manager, JSON keys, version stages and ids
//     included; a missing one stops the task before any container starts,
//     with ECS's ResourceInitializationError.
//   - Image pulls (pull.go): an image in a private ECR registry
//     (<account>.dkr.ecr.<region>.amazonaws.com/<repository>) is pulled
//     with the execution role; its repository must exist in the emulator,
//     or the task fails to start with CannotPullContainerError, and a pull
//     through cache rule whose prefix begins the repository's name makes
//     it the upstream image <upstreamRegistryUrl>/<rest of the name>:<tag>,
//     whose replica the catalog has (it knows the product's images by
//     their Quay and ECR Public names too). RunOptions.PrivateRegistryOnly
//     puts every other registry out of reach, as subnets without a route
//     to the internet do; Task.Pulled records what was pulled.
//   - Volumes: a bind mount is empty, root-owned, mode 0755, unless the
//     image of the first container mounting it has a VOLUME at that path,
//     whose contents, owner and mode are copied in; it is deleted with the
//     task. EFS is a folder per file system kept by the runner, seen from
//     the access point's root directory, created with its creation info;
//     with IAM authorization the task role must allow ClientMount (and
//     ClientWrite) on the file system through the access point.
//     linuxParameters tmpfs mounts with their size and options.
//   - One network namespace per task (containers reach each other on
//     localhost), port mappings published on 127.0.0.1, and egress only to
//     the loopback addresses the caller forwards (RunOptions.Egress).
//   - The task metadata endpoint (v3, v4 and /task) and the container
//     credentials endpoint, serving the task role's credentials from the
//     emulator's STS, so SDKs use the credential chain they use on Fargate.
//   - Health checks inside the container (its namespaces, user and
//     environment) with Docker's timing: first probe one interval after the
//     start, timeout, retries, start period; HEALTHY, UNHEALTHY, UNKNOWN.
//   - dependsOn (START, COMPLETE, SUCCESS, HEALTHY), essential, stopTimeout
//     (SIGTERM, SIGKILL after it); Task.Kill, every container's processes
//     SIGKILLed at once with no stop timeout, as when the task's host dies
//     or the task is killed for memory; and the Fargate rules ECS enforces at
//     registration or run (validate: cpu/memory sizes, awsvpc, hostPort,
//     stopTimeout <= 120, no host paths, tmpfs sizes, ...).
//
// What it cannot reproduce, and does instead:
//
//   - The metadata and credentials endpoints live on the task's loopback
//     at MetadataPort, not at 169.254.170.2 (not a loopback address); the
//     credentials are offered as AWS_CONTAINER_CREDENTIALS_FULL_URI, which
//     every AWS SDK accepts for a loopback host, where Fargate sets
//     AWS_CONTAINER_CREDENTIALS_RELATIVE_URI.
//   - The CA bundle holds the emulator's certificate (RunOptions.TrustedCA),
//     not the public roots: nothing else is reachable anyway.
//   - Busybox is Debian's build (1.35), not the image's: applets and their
//     bugs may differ (its wget -T crashes; the entrypoint avoids it).
//   - The AWS CLI image (public.ecr.aws/aws-cli/aws-cli: Amazon Linux 2,
//     AWS CLI v2), whose build needs its registry, is replaced by Debian
//     12's awscli package (2.9.19) with its dependencies, under the image's
//     ENTRYPOINT, WORKDIR and PATH, with /usr/local/bin/aws linked to it:
//     the same program and commands, an older release. It predates
//     AWS_ENDPOINT_URL, so the local profile passes the emulator's endpoint
//     to the sidecar's script in CONFIG_SYNC_ENDPOINT_URL. Its CA file is
//     linked to the runner's bundle (the image's CLI keeps its own public
//     roots); the rest of the file system is Debian's (nobody is 65534
//     there, 99 on Amazon Linux 2).
//   - Limits need the cgroup v1 memory and cpu controllers (Debian 12's
//     hybrid layout); the runner refuses to start without them. Where this
//     machine's hard open-files limit is below 65535 and root may not
//     raise it, containers get the machine's. No seccomp or AppArmor
//     profile. A runner's containers outlive a killed runc: a reaper
//     (fargate-helper reap) empties the runner's cgroup when the runner's
//     process ends, however it ends.
//   - EFS identity: files are created as the container's user, where EFS
//     would create them as the access point's POSIX user (the runner warns
//     when the two differ); TLS is not negotiated.
//   - IAM is not evaluated beyond that EFS check, with exact names and
//     StringEquals only (the emulator evaluates none): the policy package
//     checks at synth that the roles allow what the task needs.
//   - Logs go to a file per container (Container.LogPath), not to
//     CloudWatch Logs. No image is fetched from a registry: a pull
//     resolves the reference as above to a local replica; digests are not
//     checked.
//   - Two containers writing one bind mount see one folder, as on Fargate;
//     volumesFrom is refused rather than imitated.
package fargate
