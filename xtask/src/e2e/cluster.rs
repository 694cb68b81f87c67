//! A simulated cluster on this machine: every pod is a set of real processes in a network namespace
//! of its own with its own IP on one bridge, Service names resolve through a per-namespace hosts
//! file (a headless Service to every ready pod), ConfigMap and Secret keys appear as files at the
//! paths the pod spec mounts them, `emptyDir` is a tmpfs, env comes from the pod spec (`fieldRef`,
//! `resourceFieldRef`, `secretKeyRef`, `configMapKeyRef`, `$(VAR)`), every container runs as its
//! `runAsUser`/`runAsGroup` with no capabilities and, where the spec says so, a read-only root file
//! system, inside a cgroup holding its memory and CPU limits. Readiness is the container's own probe.
//!
//! Nothing rendered is rewritten: the harness reads the objects from the rendered YAML text. Needs
//! root, `ip`, `setpriv` and `mount`; every name it creates starts with `tse2e`, and `Drop` removes
//! them all.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Container, PodSpec, Probe, Secret, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::http;

/// Prefix of every network namespace, link, cgroup and file the harness creates.
pub const PREFIX: &str = "tse2e";
const BRIDGE: &str = "tse2e0";
/// The pods' subnet: addresses of this machine's own test hosts only (a bridge and network
/// namespaces the harness made), never routed anywhere else.
const SUBNET: [u8; 3] = [10, 244, 0];
const CLUSTER_DOMAIN: &str = "cluster.local";
/// The node of every pod started without one.
pub const DEFAULT_NODE: &str = "e2e-node";

/// The machine's own address on the pods' bridge: where a process of the harness (the `apiserver`
/// suite's API server) listens for pods.
pub const BRIDGE_IP: Ipv4Addr = Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], 1);

/// Where a pod finds its ServiceAccount's token, CA and namespace (client-go's in-cluster config).
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// An API server the pods reach as the kubelet wires one in: the `KUBERNETES_SERVICE_*`
/// environment, and the ServiceAccount's token, the cluster CA and the namespace mounted at
/// `/var/run/secrets/kubernetes.io/serviceaccount` of every pod that mounts its token.
pub struct KubeApi {
    pub host: Ipv4Addr,
    pub port: u16,
    /// The cluster CA certificate (PEM).
    pub ca: Vec<u8>,
    /// Tokens by (namespace, ServiceAccount); a pod whose ServiceAccount has none fails to start.
    pub tokens: BTreeMap<(String, String), String>,
}

/// Kubernetes objects read from rendered files.
#[derive(Default)]
pub struct Objects {
    pub deployments: Vec<Deployment>,
    pub daemon_sets: Vec<DaemonSet>,
    pub services: Vec<Service>,
    pub config_maps: Vec<ConfigMap>,
    pub secrets: Vec<Secret>,
    pub jobs: Vec<Job>,
    /// Every object as JSON (kinds the cluster does not run, e.g. PrometheusRule).
    pub all: Vec<serde_json::Value>,
}

impl Objects {
    /// Reads every rendered YAML file (`*.yaml` but `kustomization.yaml`) of `files`.
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a String, &'a String)>) -> Result<Self, String> {
        let mut objects = Self::default();
        for (name, text) in files {
            let file = name.rsplit('/').next().unwrap_or(name);
            // `apps/` holds patches of the applications' own Deployments, not objects of the stack.
            if !name.ends_with(".yaml")
                || file == "kustomization.yaml"
                || name.starts_with("istio/")
                || name.starts_with("apps/")
            {
                continue;
            }
            let value: serde_json::Value = serde_saphyr::from_str(text).map_err(|e| format!("{name}: {e}"))?;
            if value.get("kind").is_none() {
                continue;
            }
            let kind = value["kind"].as_str().unwrap_or_default().to_string();
            let parse = |v: &serde_json::Value| format!("{name}: not a {kind}: {v}");
            match kind.as_str() {
                "Deployment" => {
                    objects.deployments.push(serde_json::from_value(value.clone()).map_err(|_| parse(&value))?)
                }
                "DaemonSet" => {
                    objects.daemon_sets.push(serde_json::from_value(value.clone()).map_err(|_| parse(&value))?)
                }
                "Service" => objects.services.push(serde_json::from_value(value.clone()).map_err(|_| parse(&value))?),
                "ConfigMap" => {
                    objects.config_maps.push(serde_json::from_value(value.clone()).map_err(|_| parse(&value))?)
                }
                "Secret" => objects.secrets.push(serde_json::from_value(value.clone()).map_err(|_| parse(&value))?),
                "Job" => objects.jobs.push(serde_json::from_value(value.clone()).map_err(|_| parse(&value))?),
                _ => {}
            }
            objects.all.push(value);
        }
        Ok(objects)
    }

    pub fn deployment(&self, name: &str) -> Result<&Deployment, String> {
        self.deployments
            .iter()
            .find(|d| d.metadata.name.as_deref() == Some(name))
            .ok_or_else(|| format!("no Deployment `{name}` was rendered"))
    }

    pub fn job(&self, name: &str) -> Result<&Job, String> {
        self.jobs
            .iter()
            .find(|d| d.metadata.name.as_deref() == Some(name))
            .ok_or_else(|| format!("no Job `{name}` was rendered"))
    }
}

/// Where each image's program is on this machine: the binaries the harness built, keyed by image
/// repository (`otel/opentelemetry-collector-k8s`), with the image's entrypoint replaced by the
/// binary. An image whose containers set `command` (the smoke test's checker runs `/bin/sh`) runs
/// that command from this machine.
#[derive(Clone, Default)]
pub struct Images {
    pub binaries: BTreeMap<String, PathBuf>,
}

/// One running pod.
pub struct Pod {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub ip: Ipv4Addr,
    pub labels: BTreeMap<String, String>,
    pub spec: PodSpec,
    /// The simulated node the pod runs on (`spec.nodeName`).
    pub node: String,
    netns: String,
    dir: PathBuf,
    processes: Vec<(String, Child)>,
    cgroups: Vec<PathBuf>,
    pub ready: bool,
}

impl Pod {
    /// The address of a container port, by name or number.
    pub fn port(&self, port: &IntOrString) -> Result<SocketAddr, String> {
        let number = match port {
            IntOrString::Int(n) => u16::try_from(*n).map_err(|_| format!("port {n} out of range"))?,
            IntOrString::String(name) => self
                .spec
                .containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .and_then(|p| u16::try_from(p.container_port).ok())
                .ok_or_else(|| format!("pod {} declares no port named {name}", self.name))?,
        };
        Ok(SocketAddr::from((self.ip, number)))
    }

    /// A container's log file.
    pub fn log(&self, container: &str) -> PathBuf {
        self.dir.join(format!("{container}.log"))
    }

    /// The tail of a container's log, for failure messages.
    pub fn log_tail(&self, container: &str, lines: usize) -> String {
        let text = fs::read_to_string(self.log(container)).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The memory cgroup the pod's containers run in, if any.
    pub fn memory_cgroup(&self) -> Option<&Path> {
        self.cgroups
            .iter()
            .find(|p| p.components().any(|c| c.as_os_str() == "memory") || p.join("memory.max").exists())
            .map(PathBuf::as_path)
    }
}

/// The simulated cluster.
pub struct Cluster {
    work: PathBuf,
    images: Images,
    objects: Objects,
    pub pods: Vec<Pod>,
    next_ip: u8,
    created_dirs: Vec<PathBuf>,
    /// What this machine's cgroups enforce, said once in the output.
    pub cgroup_mode: &'static str,
    /// The API server pods talk to, when a suite runs one.
    pub api: Option<KubeApi>,
}

impl Cluster {
    /// Creates the bridge; `work` holds the pods' files and logs.
    pub fn new(work: &Path, images: Images, objects: Objects) -> Result<Self, String> {
        cleanup_stale();
        fs::create_dir_all(work).map_err(|e| format!("{}: {e}", work.display()))?;
        run("ip", &["link", "add", BRIDGE, "type", "bridge"])?;
        let gateway = format!("{}.{}.{}.1/24", SUBNET[0], SUBNET[1], SUBNET[2]);
        run("ip", &["addr", "add", &gateway, "dev", BRIDGE])?;
        run("ip", &["link", "set", BRIDGE, "up"])?;
        let cgroup_mode = if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
            "cgroup v2 memory.max and cpu.max"
        } else if Path::new("/sys/fs/cgroup/memory").is_dir() {
            "cgroup v1 memory.limit_in_bytes and cpu.cfs_quota_us (this machine mounts memory and cpu as v1)"
        } else {
            "none (no memory cgroup on this machine)"
        };
        Ok(Self {
            work: work.to_path_buf(),
            images,
            objects,
            pods: Vec::new(),
            next_ip: 10,
            created_dirs: Vec::new(),
            cgroup_mode,
            api: None,
        })
    }

    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    /// A pod's directory (its volumes under `volumes/<name>`).
    pub fn pod_dir(&self, index: usize) -> PathBuf {
        self.pods[index].dir.clone()
    }

    /// Starts `replicas` pods of a Deployment (its own replica count when `None`) and waits until
    /// each is ready by its readiness probe.
    pub fn run_deployment(
        &mut self,
        name: &str,
        replicas: Option<usize>,
        timeout: Duration,
    ) -> Result<Vec<usize>, String> {
        let deployment = self.objects.deployment(name)?.clone();
        let spec = deployment.spec.as_ref().ok_or_else(|| format!("Deployment {name} has no spec"))?;
        let template = spec.template.clone();
        let count = replicas.unwrap_or_else(|| usize::try_from(spec.replicas.unwrap_or(1)).unwrap_or(1));
        let namespace = deployment.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let mut started = Vec::new();
        for i in 0..count {
            let pod_name = format!("{name}-{i}");
            let labels = template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
            let pod_spec = template.spec.clone().ok_or_else(|| format!("Deployment {name} has no pod spec"))?;
            let index = self.start_pod(&pod_name, &namespace, DEFAULT_NODE, labels, pod_spec)?;
            started.push(index);
        }
        for &index in &started {
            self.wait_ready(index, timeout)?;
        }
        Ok(started)
    }

    /// Starts a DaemonSet's pod on each of `nodes` (`<name>-<node>`) and waits until each is ready.
    pub fn run_daemon_set(&mut self, name: &str, nodes: &[&str], timeout: Duration) -> Result<Vec<usize>, String> {
        let daemon_set = self
            .objects
            .daemon_sets
            .iter()
            .find(|d| d.metadata.name.as_deref() == Some(name))
            .ok_or_else(|| format!("no DaemonSet `{name}` was rendered"))?
            .clone();
        let spec = daemon_set.spec.as_ref().ok_or_else(|| format!("DaemonSet {name} has no spec"))?;
        let namespace = daemon_set.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let mut started = Vec::new();
        for node in nodes {
            let labels = spec.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
            let pod_spec = spec.template.spec.clone().ok_or_else(|| format!("DaemonSet {name} has no pod spec"))?;
            started.push(self.start_pod(&format!("{name}-{node}"), &namespace, node, labels, pod_spec)?);
        }
        for &index in &started {
            self.wait_ready(index, timeout)?;
        }
        Ok(started)
    }

    /// Runs a Job's pod to completion: init containers one after another, then its containers;
    /// `Ok` with the pod index when every container exited 0.
    pub fn run_job(&mut self, name: &str, timeout: Duration) -> Result<usize, String> {
        self.run_job_on(name, DEFAULT_NODE, timeout)
    }

    /// [`Cluster::run_job`] with the Job's pod on a given node.
    pub fn run_job_on(&mut self, name: &str, node: &str, timeout: Duration) -> Result<usize, String> {
        let job = self.objects.job(name)?.clone();
        let spec = job.spec.as_ref().ok_or_else(|| format!("Job {name} has no spec"))?;
        let labels = spec.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
        let pod_spec = spec.template.spec.clone().ok_or_else(|| format!("Job {name} has no pod spec"))?;
        let deadline = spec.active_deadline_seconds.map(|s| Duration::from_secs(u64::try_from(s).unwrap_or(0)));
        let timeout = deadline.map_or(timeout, |d| d.min(timeout));
        let namespace = job.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let index = self.create_pod(&format!("{name}-run"), &namespace, node, labels, pod_spec)?;
        let started = Instant::now();
        let inits = self.pods[index].spec.init_containers.clone().unwrap_or_default();
        for container in &inits {
            self.start_container(index, container)?;
            self.expect_success(
                index,
                &format!("Job {name}: init container"),
                &container.name,
                timeout.saturating_sub(started.elapsed()),
            )?;
        }
        let containers = self.pods[index].spec.containers.clone();
        for container in &containers {
            self.start_container(index, container)?;
        }
        for container in &containers {
            self.expect_success(
                index,
                &format!("Job {name}: container"),
                &container.name,
                timeout.saturating_sub(started.elapsed()),
            )?;
        }
        Ok(index)
    }

    /// Starts one container of a pod and keeps its process.
    fn start_container(&mut self, index: usize, container: &Container) -> Result<(), String> {
        let child = self.spawn(index, container)?;
        self.pods[index].processes.push((container.name.clone(), child));
        Ok(())
    }

    /// Waits for a container to exit 0; otherwise `Err` with the tail of its log.
    fn expect_success(&mut self, index: usize, what: &str, container: &str, timeout: Duration) -> Result<(), String> {
        let code = self.wait_exit(index, container, timeout)?;
        if code == 0 {
            Ok(())
        } else {
            Err(format!("{what} {container} exited {code}:\n{}", self.pods[index].log_tail(container, 30)))
        }
    }

    /// Stops every process of a pod (SIGTERM, then SIGKILL after its grace period), keeping its
    /// network namespace and files so it can be started again with [`Cluster::restart`].
    pub fn stop(&mut self, index: usize) {
        let grace = self.pods[index].spec.termination_grace_period_seconds.unwrap_or(30);
        let pod = &mut self.pods[index];
        pod.ready = false;
        for (_, child) in &mut pod.processes {
            signal(child.id(), "TERM");
        }
        let until = Instant::now() + Duration::from_secs(u64::try_from(grace).unwrap_or(30));
        for (_, child) in &mut pod.processes {
            while Instant::now() < until {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        pod.processes.clear();
        self.write_hosts();
    }

    /// Starts a stopped pod's containers again, same IP and files, and waits until it is ready.
    pub fn restart(&mut self, index: usize, timeout: Duration) -> Result<(), String> {
        let containers = self.pods[index].spec.containers.clone();
        for container in &containers {
            self.start_container(index, container)?;
        }
        self.wait_ready(index, timeout)
    }

    /// Whether a container's process has exited, and how.
    pub fn exited(&mut self, index: usize, container: &str) -> Option<std::process::ExitStatus> {
        let pod = &mut self.pods[index];
        pod.processes.iter_mut().find(|(n, _)| n == container).and_then(|(_, c)| c.try_wait().ok().flatten())
    }

    /// Runs a program from this machine inside a pod's network namespace (with its hosts file),
    /// as root, outside its cgroups: a client standing beside the pod.
    pub fn exec_in(&self, index: usize, program: &Path, args: &[String], log: &Path) -> Result<Child, String> {
        let pod = &self.pods[index];
        let out = fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        Command::new("ip")
            .args(["netns", "exec", &pod.netns])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("ip netns exec {}: {e}", pod.netns))
    }

    /// A pod with no containers running: a network namespace, an IP and a hosts file, for clients
    /// the harness runs itself ([`Cluster::exec_in`]).
    pub fn client_pod(&mut self, name: &str, namespace: &str) -> Result<usize, String> {
        self.create_pod(name, namespace, DEFAULT_NODE, BTreeMap::new(), PodSpec::default())
    }

    /// A client pod on a given node: node-local Services resolve to that node's pods only.
    pub fn client_pod_on(&mut self, name: &str, namespace: &str, node: &str) -> Result<usize, String> {
        self.create_pod(name, namespace, node, BTreeMap::new(), PodSpec::default())
    }

    fn start_pod(
        &mut self,
        name: &str,
        namespace: &str,
        node: &str,
        labels: BTreeMap<String, String>,
        spec: PodSpec,
    ) -> Result<usize, String> {
        let index = self.create_pod(name, namespace, node, labels, spec)?;
        for container in self.pods[index].spec.init_containers.clone().unwrap_or_default() {
            self.start_container(index, &container)?;
            self.expect_success(
                index,
                &format!("pod {name}: init container"),
                &container.name,
                Duration::from_secs(120),
            )?;
        }
        for container in self.pods[index].spec.containers.clone() {
            self.start_container(index, &container)?;
        }
        Ok(index)
    }

    fn create_pod(
        &mut self,
        name: &str,
        namespace: &str,
        node: &str,
        labels: BTreeMap<String, String>,
        spec: PodSpec,
    ) -> Result<usize, String> {
        let n = self.next_ip;
        self.next_ip = self.next_ip.checked_add(1).ok_or("more than 245 pods")?;
        let ip = Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], n);
        let netns = format!("{PREFIX}-{n}");
        let veth = format!("{PREFIX}v{n}");
        run("ip", &["netns", "add", &netns])?;
        run("ip", &["link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &netns])?;
        run("ip", &["link", "set", &veth, "master", BRIDGE, "up"])?;
        let cidr = format!("{ip}/24");
        run("ip", &["-n", &netns, "addr", "add", &cidr, "dev", "eth0"])?;
        run("ip", &["-n", &netns, "link", "set", "eth0", "up"])?;
        run("ip", &["-n", &netns, "link", "set", "lo", "up"])?;
        let dir = self.work.join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let uid = uuid();
        self.pods.push(Pod {
            name: name.to_string(),
            namespace: namespace.to_string(),
            uid,
            ip,
            labels,
            spec,
            node: node.to_string(),
            netns,
            dir,
            processes: Vec::new(),
            cgroups: Vec::new(),
            ready: false,
        });
        let index = self.pods.len() - 1;
        self.prepare_volumes(index)?;
        self.make_cgroups(index)?;
        self.write_hosts();
        Ok(index)
    }

    /// Writes every ConfigMap, Secret and projected volume of the pod as files under its
    /// directory, to be bind-mounted at the container's mount paths.
    fn prepare_volumes(&mut self, index: usize) -> Result<(), String> {
        let pod = &self.pods[index];
        let namespace = pod.namespace.clone();
        let group = pod.spec.security_context.as_ref().and_then(|s| s.fs_group);
        let volumes = pod.spec.volumes.clone().unwrap_or_default();
        let dir = pod.dir.join("volumes");
        for volume in volumes {
            let target = dir.join(&volume.name);
            fs::create_dir_all(&target).map_err(|e| e.to_string())?;
            let mut files: Vec<(String, Vec<u8>)> = Vec::new();
            if let Some(source) = &volume.config_map {
                let map = self.config_map(&namespace, &source.name)?;
                let data = map.data.clone().unwrap_or_default();
                match &source.items {
                    Some(items) => {
                        for item in items {
                            let value = data
                                .get(&item.key)
                                .ok_or_else(|| format!("ConfigMap {} has no key {}", source.name, item.key))?;
                            files.push((item.path.clone(), value.clone().into_bytes()));
                        }
                    }
                    None => files.extend(data.into_iter().map(|(k, v)| (k, v.into_bytes()))),
                }
            }
            if let Some(source) = &volume.secret {
                let name = source.secret_name.clone().unwrap_or_default();
                match self.secret(&namespace, &name) {
                    Ok(data) => match &source.items {
                        Some(items) => {
                            for item in items {
                                let value = data
                                    .get(&item.key)
                                    .ok_or_else(|| format!("Secret {name} has no key {}", item.key))?;
                                files.push((item.path.clone(), value.clone()));
                            }
                        }
                        None => files.extend(data),
                    },
                    Err(e) if source.optional != Some(true) => return Err(e),
                    Err(_) => {}
                }
            }
            for (path, bytes) in files {
                let file = target.join(&path);
                if let Some(parent) = file.parent() {
                    fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                }
                fs::write(&file, bytes).map_err(|e| format!("{}: {e}", file.display()))?;
            }
            // Kubernetes makes volume files readable by the pod's fsGroup; world-readable here.
            let _ = Command::new("chmod").args(["-R", "a+rX"]).arg(&target).status();
            if let Some(group) = group {
                let _ = Command::new("chgrp").args(["-R", &group.to_string()]).arg(&target).status();
                // A claim's volume is the pod's to write: the kubelet makes it group-writable and
                // setgid for the fsGroup. Here a directory of the pod stands in for the claim, and
                // lives as long as the pod's files do (across `stop` and `restart`).
                if volume.persistent_volume_claim.is_some() {
                    let _ = Command::new("chmod").args(["-R", "g+rwX"]).arg(&target).status();
                    let _ = Command::new("chmod").args(["g+s"]).arg(&target).status();
                }
            }
        }
        Ok(())
    }

    fn config_map(&self, namespace: &str, name: &str) -> Result<&ConfigMap, String> {
        self.objects
            .config_maps
            .iter()
            .find(|c| {
                c.metadata.name.as_deref() == Some(name)
                    && c.metadata.namespace.as_deref().unwrap_or("default") == namespace
            })
            .ok_or_else(|| format!("ConfigMap {namespace}/{name} was not rendered"))
    }

    fn secret(&self, namespace: &str, name: &str) -> Result<BTreeMap<String, Vec<u8>>, String> {
        let secret = self
            .objects
            .secrets
            .iter()
            .find(|c| {
                c.metadata.name.as_deref() == Some(name)
                    && c.metadata.namespace.as_deref().unwrap_or("default") == namespace
            })
            .ok_or_else(|| format!("Secret {namespace}/{name} does not exist in the simulated cluster"))?;
        let mut data: BTreeMap<String, Vec<u8>> =
            secret.data.clone().unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect();
        for (k, v) in secret.string_data.clone().unwrap_or_default() {
            data.insert(k, v.into_bytes());
        }
        Ok(data)
    }

    /// One cgroup per pod holding the sum of its containers' memory and CPU limits (a pod-level
    /// cgroup, as the kubelet makes one).
    fn make_cgroups(&mut self, index: usize) -> Result<(), String> {
        let pod = &self.pods[index];
        let mut memory: Option<u64> = None;
        let mut cpu_millis: Option<u64> = None;
        for c in &pod.spec.containers {
            let limits = c.resources.as_ref().and_then(|r| r.limits.as_ref());
            if let Some(m) = limits.and_then(|l| l.get("memory")).and_then(|q| parse_bytes(&q.0)) {
                memory = Some(memory.unwrap_or(0) + m);
            }
            if let Some(m) = limits.and_then(|l| l.get("cpu")).and_then(|q| parse_millis(&q.0)) {
                cpu_millis = Some(cpu_millis.unwrap_or(0) + m);
            }
        }
        let name = format!("{PREFIX}-{}", pod.name);
        let mut cgroups = Vec::new();
        if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
            let base = Path::new("/sys/fs/cgroup").join(&name);
            let _ = fs::write("/sys/fs/cgroup/cgroup.subtree_control", "+memory +cpu");
            fs::create_dir_all(&base).map_err(|e| format!("{}: {e}", base.display()))?;
            if let Some(m) = memory {
                fs::write(base.join("memory.max"), m.to_string()).map_err(|e| e.to_string())?;
                let _ = fs::write(base.join("memory.swap.max"), "0");
            }
            if let Some(c) = cpu_millis {
                fs::write(base.join("cpu.max"), format!("{} 100000", c * 100)).map_err(|e| e.to_string())?;
            }
            cgroups.push(base);
        } else {
            if let (Some(m), Some(base)) = (memory, v1_base("memory")) {
                let dir = base.join(&name);
                fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                fs::write(dir.join("memory.limit_in_bytes"), m.to_string()).map_err(|e| e.to_string())?;
                cgroups.push(dir);
            }
            if let (Some(c), Some(base)) = (cpu_millis, v1_base("cpu")) {
                let dir = base.join(&name);
                fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                fs::write(dir.join("cpu.cfs_period_us"), "100000").map_err(|e| e.to_string())?;
                fs::write(dir.join("cpu.cfs_quota_us"), (c * 100).to_string()).map_err(|e| e.to_string())?;
                cgroups.push(dir);
            }
        }
        self.pods[index].cgroups = cgroups;
        Ok(())
    }

    /// Starts one container of a pod: its env resolved, its volumes mounted in a private mount
    /// namespace, its user, and its binary with its own args.
    fn spawn(&mut self, index: usize, container: &Container) -> Result<Child, String> {
        let env = self.env(index, container)?;
        let pod = &self.pods[index];
        let expand = |s: &String| expand_vars(s, &env);
        let image = container.image.clone().unwrap_or_default();
        let repository = image_repository(&image);
        let mut argv: Vec<String> = Vec::new();
        match &container.command {
            Some(command) => argv.extend(command.iter().map(expand)),
            None => argv.push(
                self.images
                    .binaries
                    .get(repository)
                    .ok_or_else(|| format!("no binary for image {image} (container {})", container.name))?
                    .display()
                    .to_string(),
            ),
        }
        argv.extend(container.args.iter().flatten().map(expand));

        let mut script = String::from("set -e\n");
        let size_of = |name: &str| {
            pod.spec
                .volumes
                .iter()
                .flatten()
                .find(|v| v.name == name)
                .and_then(|v| v.empty_dir.as_ref())
                .map(|e| e.size_limit.as_ref().and_then(|q| parse_bytes(&q.0)).unwrap_or(64 << 20))
        };
        let security = container.security_context.clone().unwrap_or_default();
        let pod_security = pod.spec.security_context.clone().unwrap_or_default();
        let user = security.run_as_user.or(pod_security.run_as_user).unwrap_or(0);
        let group = security.run_as_group.or(pod_security.run_as_group).unwrap_or(0);
        let mounts: Vec<_> = container.volume_mounts.iter().flatten().collect();
        // A mount inside another volume's mount (a Secret under the config directory) needs its
        // mount point inside that volume, as the container runtime creates it.
        for inner in &mounts {
            for outer in &mounts {
                let prefix = format!("{}/", outer.mount_path.trim_end_matches('/'));
                if let Some(rest) = inner.mount_path.strip_prefix(&prefix)
                    && size_of(&outer.name).is_none()
                    && outer.sub_path.as_deref().is_none_or(str::is_empty)
                {
                    let point = pod.dir.join("volumes").join(&outer.name).join(rest);
                    fs::create_dir_all(&point).map_err(|e| format!("{}: {e}", point.display()))?;
                }
            }
        }
        for mount in mounts {
            let target = PathBuf::from(&mount.mount_path);
            if let Some(size) = size_of(&mount.name) {
                self.created_dirs.extend(ensure_dir(&target)?);
                writeln!(script, "mount -t tmpfs -o size={size},mode=1777 tmpfs {}", quote(&mount.mount_path)).unwrap();
                continue;
            }
            let mut source = pod.dir.join("volumes").join(&mount.name);
            if let Some(sub) = mount.sub_path.as_deref().filter(|s| !s.is_empty()) {
                source = source.join(sub);
                if source.is_file() {
                    if !target.exists() {
                        return Err(format!(
                            "subPath file mount {} needs an existing file on this machine",
                            mount.mount_path
                        ));
                    }
                } else {
                    self.created_dirs.extend(ensure_dir(&target)?);
                }
            } else {
                self.created_dirs.extend(ensure_dir(&target)?);
            }
            let ro = if mount.read_only == Some(true) { ",ro" } else { "" };
            writeln!(
                script,
                "mount --bind {} {}\nmount -o remount,bind{ro} {}",
                quote(&source.display().to_string()),
                quote(&mount.mount_path),
                quote(&mount.mount_path)
            )
            .unwrap();
        }
        let mut kube_env: Vec<(String, String)> = Vec::new();
        if let Some(api) = &self.api
            && pod.spec.automount_service_account_token != Some(false)
        {
            let account = pod.spec.service_account_name.clone().unwrap_or_else(|| "default".into());
            let token = api
                .tokens
                .get(&(pod.namespace.clone(), account.clone()))
                .ok_or_else(|| format!("pod {}: no token for ServiceAccount {}/{account}", pod.name, pod.namespace))?;
            let dir = pod.dir.join("serviceaccount");
            fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for (file, bytes) in
                [("token", token.as_bytes()), ("ca.crt", api.ca.as_slice()), ("namespace", pod.namespace.as_bytes())]
            {
                fs::write(dir.join(file), bytes).map_err(|e| format!("{}: {e}", dir.join(file).display()))?;
            }
            self.created_dirs.extend(ensure_dir(Path::new(SERVICE_ACCOUNT_DIR))?);
            writeln!(
                script,
                "mount --bind {} {SERVICE_ACCOUNT_DIR}\nmount -o remount,bind,ro {SERVICE_ACCOUNT_DIR}",
                quote(&dir.display().to_string())
            )
            .unwrap();
            let (host, port) = (api.host.to_string(), api.port.to_string());
            kube_env = vec![
                ("KUBERNETES_SERVICE_HOST".into(), host.clone()),
                ("KUBERNETES_SERVICE_PORT".into(), port.clone()),
                ("KUBERNETES_SERVICE_PORT_HTTPS".into(), port.clone()),
                ("KUBERNETES_PORT".into(), format!("tcp://{host}:{port}")),
            ];
        }
        if security.read_only_root_filesystem == Some(true) {
            script.push_str("mount -o remount,bind,ro /\n");
        }
        script.push_str(&format!(
            "exec setpriv --reuid={user} --regid={group} --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all -- \"$@\"\n"
        ));

        let log = pod.log(&container.name);
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &pod.netns, "/bin/sh", "-c", &script, "sh"])
            .args(&argv)
            .env_clear()
            .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOSTNAME", &pod.name)
            .envs(kube_env.iter().map(|(k, v)| (k, v)))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = command.spawn().map_err(|e| format!("starting {} of pod {}: {e}", container.name, pod.name))?;
        // `ip netns exec` mounts a /sys of the new network namespace, without cgroups: the harness
        // moves the process into the pod's cgroups itself, before it has run its program.
        for cgroup in &pod.cgroups {
            fs::write(cgroup.join("cgroup.procs"), child.id().to_string())
                .map_err(|e| format!("{}: {e}", cgroup.join("cgroup.procs").display()))?;
        }
        Ok(child)
    }

    /// A container's environment as the kubelet would set it, in order, `$(VAR)` expanded.
    fn env(&self, index: usize, container: &Container) -> Result<Vec<(String, String)>, String> {
        let pod = &self.pods[index];
        let mut env: Vec<(String, String)> = Vec::new();
        for var in container.env.iter().flatten() {
            let value = match (&var.value, &var.value_from) {
                (Some(v), _) => expand_vars(v, &env),
                (None, Some(from)) => {
                    if let Some(field) = &from.field_ref {
                        match field.field_path.as_str() {
                            "metadata.name" => pod.name.clone(),
                            "metadata.namespace" => pod.namespace.clone(),
                            "metadata.uid" => pod.uid.clone(),
                            "status.podIP" | "status.hostIP" => pod.ip.to_string(),
                            "spec.nodeName" => pod.node.clone(),
                            "spec.serviceAccountName" => {
                                pod.spec.service_account_name.clone().unwrap_or_else(|| "default".into())
                            }
                            other => {
                                if let Some(label) =
                                    other.strip_prefix("metadata.labels['").and_then(|s| s.strip_suffix("']"))
                                {
                                    pod.labels.get(label).cloned().unwrap_or_default()
                                } else {
                                    return Err(format!("fieldRef {other} is not simulated"));
                                }
                            }
                        }
                    } else if let Some(resource) = &from.resource_field_ref {
                        let c = resource.container_name.as_deref().map_or(container, |n| {
                            pod.spec.containers.iter().find(|c| c.name == n).unwrap_or(container)
                        });
                        let (kind, what) = resource.resource.split_once('.').unwrap_or(("limits", "memory"));
                        let r = c.resources.as_ref();
                        let q = if kind == "limits" {
                            r.and_then(|r| r.limits.as_ref())
                        } else {
                            r.and_then(|r| r.requests.as_ref())
                        }
                        .and_then(|m| m.get(what))
                        .map(|q| q.0.clone())
                        .unwrap_or_default();
                        let divisor = resource.divisor.as_ref().map(|d| d.0.clone()).unwrap_or_else(|| "1".into());
                        if what == "memory" {
                            let value = parse_bytes(&q).unwrap_or(0);
                            let d = parse_bytes(&divisor).unwrap_or(1).max(1);
                            value.div_ceil(d).to_string()
                        } else {
                            let value = parse_millis(&q).unwrap_or(0);
                            let d = parse_millis(&divisor).unwrap_or(1000).max(1);
                            value.div_ceil(d).to_string()
                        }
                    } else if let Some(key) = &from.secret_key_ref {
                        match self.secret(&pod.namespace, &key.name).ok().and_then(|d| d.get(&key.key).cloned()) {
                            Some(v) => String::from_utf8_lossy(&v).into_owned(),
                            None if key.optional == Some(true) => continue,
                            None => {
                                return Err(format!(
                                    "Secret {}/{} key {} does not exist",
                                    pod.namespace, key.name, key.key
                                ));
                            }
                        }
                    } else if let Some(key) = &from.config_map_key_ref {
                        match self
                            .config_map(&pod.namespace, &key.name)
                            .ok()
                            .and_then(|c| c.data.as_ref()?.get(&key.key).cloned())
                        {
                            Some(v) => v,
                            None if key.optional == Some(true) => continue,
                            None => {
                                return Err(format!(
                                    "ConfigMap {}/{} key {} does not exist",
                                    pod.namespace, key.name, key.key
                                ));
                            }
                        }
                    } else {
                        return Err(format!("env {} has an unsupported source", var.name));
                    }
                }
                (None, None) => String::new(),
            };
            env.retain(|(k, _)| k != &var.name);
            env.push((var.name.clone(), value));
        }
        Ok(env)
    }

    fn wait_exit(&mut self, index: usize, container: &str, timeout: Duration) -> Result<i32, String> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited(index, container) {
                return Ok(status.code().unwrap_or(-1));
            }
            if Instant::now() > until {
                return Err(format!(
                    "pod {}: container {container} still running after {timeout:?}:\n{}",
                    self.pods[index].name,
                    self.pods[index].log_tail(container, 20)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Polls every container's readiness probe (as the kubelet would, from outside the pod) until
    /// all pass; then the pod joins its Services' hosts entries.
    fn wait_ready(&mut self, index: usize, timeout: Duration) -> Result<(), String> {
        let until = Instant::now() + timeout;
        let containers = self.pods[index].spec.containers.clone();
        for container in &containers {
            let Some(probe) = container.readiness_probe.as_ref() else { continue };
            loop {
                if let Some(status) = self.exited(index, &container.name) {
                    return Err(format!(
                        "pod {}: container {} exited ({status}) before it was ready:\n{}",
                        self.pods[index].name,
                        container.name,
                        self.pods[index].log_tail(&container.name, 30)
                    ));
                }
                match self.probe(index, probe) {
                    Ok(()) => break,
                    Err(e) if Instant::now() > until => {
                        return Err(format!(
                            "pod {}: container {} not ready after {timeout:?}: {e}\n{}",
                            self.pods[index].name,
                            container.name,
                            self.pods[index].log_tail(&container.name, 30)
                        ));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(200)),
                }
            }
        }
        self.pods[index].ready = true;
        self.write_hosts();
        Ok(())
    }

    /// One probe attempt.
    pub fn probe(&self, index: usize, probe: &Probe) -> Result<(), String> {
        let pod = &self.pods[index];
        let timeout = Duration::from_secs(u64::try_from(probe.timeout_seconds.unwrap_or(1)).unwrap_or(1));
        if let Some(get) = &probe.http_get {
            let addr = pod.port(&get.port)?;
            let path = get.path.clone().unwrap_or_else(|| "/".into());
            let response = http::get(addr, &path, timeout)?;
            return if (200..400).contains(&response.status) {
                Ok(())
            } else {
                Err(format!("GET {path}: HTTP {}", response.status))
            };
        }
        if let Some(tcp) = &probe.tcp_socket {
            let addr = pod.port(&tcp.port)?;
            return std::net::TcpStream::connect_timeout(&addr, timeout).map(|_| ()).map_err(|e| e.to_string());
        }
        Err("only httpGet and tcpSocket probes are simulated".into())
    }

    /// Every Service name, in all its DNS forms, to the IPs of the ready pods it selects; every
    /// pod's own name to its IP. Written to each namespace's `/etc/netns/<ns>/hosts`, which
    /// `ip netns exec` mounts over `/etc/hosts`. A Service with `internalTrafficPolicy: Local`
    /// resolves, in each pod, only to the ready pods on that pod's node (as kube-proxy routes it).
    fn write_hosts(&self) {
        for viewer in &self.pods {
            let mut hosts = String::from("127.0.0.1 localhost\n::1 localhost\n");
            for service in &self.objects.services {
                let name = service.metadata.name.clone().unwrap_or_default();
                let namespace = service.metadata.namespace.clone().unwrap_or_else(|| "default".into());
                let spec = service.spec.as_ref();
                let selector = spec.and_then(|s| s.selector.clone()).unwrap_or_default();
                if selector.is_empty() {
                    continue;
                }
                let local = spec.and_then(|s| s.internal_traffic_policy.as_deref()) == Some("Local");
                for pod in self.pods.iter().filter(|p| p.ready && p.namespace == namespace) {
                    if local && pod.node != viewer.node {
                        continue;
                    }
                    if selector.iter().all(|(k, v)| pod.labels.get(k) == Some(v)) {
                        writeln!(
                            hosts,
                            "{} {name}.{namespace}.svc.{CLUSTER_DOMAIN} {name}.{namespace}.svc {name}.{namespace} {name}",
                            pod.ip
                        )
                        .unwrap();
                    }
                }
            }
            for pod in &self.pods {
                writeln!(hosts, "{} {}", pod.ip, pod.name).unwrap();
            }
            let dir = Path::new("/etc/netns").join(&viewer.netns);
            let _ = fs::create_dir_all(&dir);
            let tmp = dir.join("hosts.tmp");
            if fs::write(&tmp, &hosts).is_ok() {
                let _ = fs::rename(&tmp, dir.join("hosts"));
            }
        }
    }

    /// Checks that every Service port the cluster resolves by name maps to the same container
    /// port: the hosts file sends clients straight to pod IPs, so a Service port that differs from
    /// its target could not be simulated and would fail loudly here instead of silently.
    pub fn check_service_ports(&self) -> Result<(), String> {
        for service in &self.objects.services {
            for port in service.spec.as_ref().and_then(|s| s.ports.clone()).unwrap_or_default() {
                let target = match &port.target_port {
                    None => continue,
                    Some(IntOrString::Int(n)) => *n,
                    Some(IntOrString::String(name)) => {
                        let found = self
                            .objects
                            .deployments
                            .iter()
                            .filter_map(|d| d.spec.as_ref()?.template.spec.as_ref())
                            .flat_map(|s| s.containers.iter().flat_map(|c| c.ports.iter().flatten()))
                            .find(|p| p.name.as_deref() == Some(name.as_str()));
                        match found {
                            Some(p) => p.container_port,
                            None => continue,
                        }
                    }
                };
                if target != port.port {
                    return Err(format!(
                        "Service {} maps port {} to {target}: the simulated cluster resolves Services to pod IPs and cannot remap ports",
                        service.metadata.name.as_deref().unwrap_or_default(),
                        port.port
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for index in 0..self.pods.len() {
            for (_, child) in &mut self.pods[index].processes {
                signal(child.id(), "KILL");
                let _ = child.wait();
            }
        }
        for pod in &self.pods {
            for cgroup in &pod.cgroups {
                let _ = fs::remove_dir(cgroup);
            }
        }
        cleanup_stale();
        for dir in self.created_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// Removes every network namespace, link, hosts directory and cgroup a harness run left behind.
fn cleanup_stale() {
    if let Ok(out) = Command::new("ip").args(["netns", "list"]).output() {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let name = line.split_whitespace().next().unwrap_or_default();
            if name.starts_with(PREFIX) {
                // A process still inside (a client the harness started, or one left by an
                // interrupted run) would keep the namespace and its veth alive.
                if let Ok(pids) = Command::new("ip").args(["netns", "pids", name]).output() {
                    for pid in String::from_utf8_lossy(&pids.stdout).split_whitespace() {
                        if let Ok(pid) = pid.parse::<u32>() {
                            signal(pid, "KILL");
                        }
                    }
                }
                let _ = Command::new("ip").args(["netns", "del", name]).status();
                let _ = fs::remove_dir_all(Path::new("/etc/netns").join(name));
            }
        }
    }
    if let Ok(out) = Command::new("ip").args(["-o", "link", "show"]).output() {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let name = line.split(':').nth(1).unwrap_or_default().trim().split('@').next().unwrap_or_default();
            if name.starts_with(PREFIX) {
                let _ = Command::new("ip").args(["link", "del", name]).stderr(Stdio::null()).status();
            }
        }
    }
    let mut bases: Vec<PathBuf> = vec![PathBuf::from("/sys/fs/cgroup")];
    bases.extend(v1_base("memory"));
    bases.extend(v1_base("cpu"));
    for base in bases {
        if let Ok(entries) = fs::read_dir(&base) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(PREFIX) {
                    let _ = fs::remove_dir(entry.path());
                }
            }
        }
    }
}

/// The directory of this process's own v1 cgroup of `controller` (children are created there).
fn v1_base(controller: &str) -> Option<PathBuf> {
    let root = Path::new("/sys/fs/cgroup").join(controller);
    if !root.is_dir() || Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        return None;
    }
    let own = fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = own.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let _ = parts.next();
        let controllers = parts.next()?;
        let path = parts.next()?;
        controllers.split(',').any(|c| c == controller).then(|| path.to_string())
    })?;
    Some(root.join(path.trim_start_matches('/')))
}

/// Creates a missing mount point and its missing parents; returns what it created (removed again
/// when the cluster is dropped).
fn ensure_dir(path: &Path) -> Result<Vec<PathBuf>, String> {
    let mut missing = Vec::new();
    let mut p = Some(path);
    while let Some(dir) = p {
        if dir.exists() {
            break;
        }
        missing.push(dir.to_path_buf());
        p = dir.parent();
    }
    missing.reverse();
    for dir in &missing {
        fs::create_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(missing)
}

/// Runs a command, `Err` with its output when it fails.
pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program).args(args).output().map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn signal(pid: u32, signal: &str) {
    // `ip netns exec` execs the shell, which execs setpriv, which execs the program: the child's
    // PID is the program's.
    let _ = Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).stderr(Stdio::null()).status();
}

/// Kubernetes `$(VAR)` expansion: a name defined earlier is replaced, `$$` is `$`, anything else
/// stays as written.
pub fn expand_vars(text: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
            && let Some((_, v)) = env.iter().find(|(k, _)| k == &inner[..end])
        {
            out.push_str(v);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// `registry/repo:tag@digest` → `registry/repo`.
pub fn image_repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(i) if !image[i..].contains('/') => &image[..i],
        _ => image,
    }
}

/// A Kubernetes memory quantity in bytes.
pub fn parse_bytes(q: &str) -> Option<u64> {
    let units: [(&str, u64); 12] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("Pi", 1 << 50),
        ("Ei", 1 << 60),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
        ("P", 1_000_000_000_000_000),
        ("E", 1_000_000_000_000_000_000),
    ];
    for (suffix, factor) in units {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<f64>().ok().map(|n| (n * factor as f64) as u64);
        }
    }
    q.parse::<f64>().ok().map(|n| n as u64)
}

/// A CPU quantity in millicores.
pub fn parse_millis(q: &str) -> Option<u64> {
    match q.strip_suffix('m') {
        Some(n) => n.parse().ok(),
        None => q.parse::<f64>().ok().map(|n| (n * 1000.0) as u64),
    }
}

/// Single-quotes a word for `sh`.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A random version-4 UUID, as the API server gives each pod.
pub fn uuid() -> String {
    let mut b = [0u8; 16];
    if let Ok(mut f) = fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// The label set Prometheus would attach to a pod's series through a PodMonitor (`job` from its
/// `jobLabel`, `namespace`, `pod`, and each `podTargetLabels` entry).
pub fn target_labels(pod: &Pod, job_label: &str, pod_target_labels: &[String]) -> BTreeSet<(String, String)> {
    let mut labels = BTreeSet::new();
    if let Some(job) = pod.labels.get(job_label) {
        labels.insert(("job".to_string(), job.clone()));
    }
    labels.insert(("namespace".to_string(), pod.namespace.clone()));
    labels.insert(("pod".to_string(), pod.name.clone()));
    for l in pod_target_labels {
        if let Some(v) = pod.labels.get(l) {
            let name: String = l.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
            labels.insert((name, v.clone()));
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_like_the_kubelet() {
        let env = vec![("A".to_string(), "x".to_string())];
        assert_eq!(expand_vars("k=$(A),$(B),$$(A),$", &env), "k=x,$(B),$(A),$");
    }

    #[test]
    fn image_repository_drops_tag_and_digest() {
        assert_eq!(image_repository("otel/opentelemetry-collector-k8s:0.159.0"), "otel/opentelemetry-collector-k8s");
        assert_eq!(image_repository("reg:5000/a/b:1@sha256:ab"), "reg:5000/a/b");
        assert_eq!(image_repository("reg:5000/a/b"), "reg:5000/a/b");
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_bytes("256Mi"), Some(256 << 20));
        assert_eq!(parse_bytes("1G"), Some(1_000_000_000));
        assert_eq!(parse_millis("500m"), Some(500));
        assert_eq!(parse_millis("2"), Some(2000));
    }
}
