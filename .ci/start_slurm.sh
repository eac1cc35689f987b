#!/usr/bin/env bash
# A private single-node SLURM (munged + slurmctld + slurmd) for the plan test,
# kept inside one folder that the caller owns:
#
#   .ci/start_slurm.sh start DIR   # stdout: "export SLURM_CONF=DIR/slurm.conf" once it is up
#   .ci/start_slurm.sh stop DIR    # stops exactly the daemons that start started
#
# Its configuration, munge key and socket, state, logs and PID files all live
# in DIR; it listens on its own ports, so a SLURM already on the machine is
# neither read, stopped nor reconfigured. It installs slurm-wlm and munge
# when they are missing (best effort); on any failure the test is ignored and
# says why. Stopping goes by the PIDs recorded in DIR, never by process name.
set -uo pipefail
action=${1:-}
dir=${2:-}
if [ -z "$action" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

stop() {
  # Reverse order of start; each PID file was written by the daemon we started.
  for name in slurmd slurmctld munged; do
    pidfile="$dir/$name.pid"
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
      echo "slurm: stopped $name (pid $pid)" >&2
    fi
    rm -f "$pidfile"
  done
}

if [ "$action" = stop ]; then
  stop
  exit 0
fi
[ "$action" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq slurm-wlm munge) >"$dir/apt.log" 2>&1 ||
    { echo "note: slurm-wlm not installed (see $dir/apt.log)" >&2; exit 0; }
fi
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
host=$(hostname -s)
cpus=$(nproc)
mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024))

# munged refuses a key or socket folder others can write, and wants a key of its own.
dd if=/dev/urandom bs=1 count=1024 of="$dir/munge/munge.key" 2>/dev/null
chmod 400 "$dir/munge/munge.key"
socket="$dir/munge/munge.socket"
/usr/sbin/munged --force --key-file="$dir/munge/munge.key" --socket="$socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" ||
  { echo "note: munged did not start (see $dir/munged.log)" >&2; exit 0; }

# Ports of our own (the defaults are 6817 and 6818), so a machine's SLURM keeps its own.
ctld_port=$((20000 + RANDOM % 20000))
slurmd_port=$((ctld_port + 1))
cat >"$dir/slurm.conf" <<CONF
ClusterName=elmbench
SlurmctldHost=${host}
SlurmctldPort=${ctld_port}
SlurmdPort=${slurmd_port}
AuthType=auth/munge
AuthInfo=socket=${socket}
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/slurmctld.log
SlurmdLogFile=${dir}/slurmd.log
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
NodeName=${host} CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF" ||
  { echo "note: slurmctld did not start (see $dir/slurmctld.log)" >&2; exit 0; }
slurmd -f "$SLURM_CONF" -N "$host" ||
  { echo "note: slurmd did not start (see $dir/slurmd.log)" >&2; exit 0; }
for _ in $(seq 1 30); do
  if sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mix|alloc'; then
    echo "slurm: up on ${host}, ports ${ctld_port}-${slurmd_port}, in ${dir}" >&2
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  scontrol update nodename="${host}" state=resume >/dev/null 2>&1
  sleep 1
done
echo "note: slurm did not come up (see ${dir}/*.log)" >&2
exit 0
