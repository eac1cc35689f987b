#!/usr/bin/env bash
# Starts a single-node SLURM (munge + slurmctld + slurmd) on this machine for
# the plan test. Best effort: on failure the test skips and says why.
set -uo pipefail
if ! command -v slurmctld >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq slurm-wlm munge) >/tmp/elmbench-slurm-apt.log 2>&1 ||
    { echo "note: slurm-wlm not installed (see /tmp/elmbench-slurm-apt.log)"; exit 0; }
fi
host=$(hostname -s)
cpus=$(nproc)
mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=elmbench
SlurmctldHost=${host}
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
NodeName=${host} CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null
chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged --force
pkill -x slurmctld 2>/dev/null; pkill -x slurmd 2>/dev/null; sleep 1
slurmctld -c >/dev/null 2>&1 || slurmctld
slurmd
for _ in $(seq 1 30); do
  if sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mix|alloc'; then echo "slurm: up on ${host}"; exit 0; fi
  scontrol update nodename="${host}" state=resume >/dev/null 2>&1
  sleep 1
done
echo "note: slurm did not come up (see /var/log/slurm/)"
exit 0
