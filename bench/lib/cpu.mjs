/**
 * Where the 2 cores went: CPU time of the wrangler process group (wrangler's Node,
 * workerd, esbuild), of this process (load generator + stub server + polling), and of
 * everything else on the machine (other users of the box), from /proc. Linux only; on
 * other systems every figure is null.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on every Linux we run on

function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const f = text.slice(close + 2).split(' '); // f[0] is field 3 (state)
    return { pid, comm, pgrp: Number(f[2]), ms: (Number(f[11]) + Number(f[12])) * TICK_MS };
  } catch {
    return null;
  }
}

/**
 * wrangler dev runs two workerd processes: the proxy listening on the public port, and
 * the one running the Worker (its entry socket on a random port).
 */
function label(s, publicPort) {
  if (s.comm === 'MainThread' || s.comm === 'node') return 'wrangler (node)';
  if (s.comm !== 'workerd') return s.comm;
  try {
    const args = readFileSync(`/proc/${s.pid}/cmdline`, 'utf8');
    return args.includes(`entry=127.0.0.1:${publicPort}\0`) || args.includes(`entry=127.0.0.1:${publicPort} `)
      ? 'workerd (proxy)'
      : 'workerd (worker)';
  } catch {
    return 'workerd';
  }
}

function machineBusyMs() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]; // cpu  user nice system idle iowait irq softirq steal
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busy: (user + nice + system + irq + softirq + steal) * TICK_MS, idle: (idle + iowait) * TICK_MS };
}

/** A snapshot: CPU ms per process of the group (by pid) and for this process and the machine. */
export function cpuSnapshot(pgid, publicPort) {
  try {
    const group = {};
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const s = procStat(Number(name));
      if (s && s.pgrp === pgid) {
        const entry = { ...s, label: label(s, publicPort) };
        // workerd runs every isolate (Worker, Durable Objects, local D1, the Queue broker) on its main thread.
        if (entry.label === 'workerd (worker)') entry.mainThreadMs = procStat(`${s.pid}/task/${s.pid}`)?.ms ?? null;
        group[s.pid] = entry;
      }
    }
    const self = process.cpuUsage();
    return { at: performance.now(), group, selfMs: (self.user + self.system) / 1000, machine: machineBusyMs() };
  } catch {
    return null;
  }
}

/**
 * CPU between two snapshots, in "cores busy" (CPU seconds per wall second):
 * per process name in the wrangler group, this process, other processes, idle.
 */
export function cpuBetween(a, b) {
  if (!a || !b) return null;
  const wallMs = b.at - a.at;
  if (wallMs <= 0) return null;
  const byName = {};
  let groupMs = 0;
  let workerMainMs = null;
  for (const [pid, s] of Object.entries(b.group)) {
    const before = a.group[pid]?.ms ?? 0; // a process started in between counts from 0
    const d = Math.max(0, s.ms - before);
    groupMs += d;
    byName[s.label] = (byName[s.label] ?? 0) + d;
    if (s.mainThreadMs != null && a.group[pid]?.mainThreadMs != null)
      workerMainMs = (workerMainMs ?? 0) + s.mainThreadMs - a.group[pid].mainThreadMs;
  }
  const busyMs = b.machine.busy - a.machine.busy;
  const idleMs = b.machine.idle - a.machine.idle;
  const selfMs = b.selfMs - a.selfMs;
  const cores = (ms) => Math.round((ms / wallMs) * 100) / 100;
  const stack = {};
  for (const [name, ms] of Object.entries(byName)) stack[name] = cores(ms);
  if (workerMainMs !== null) stack['workerd (worker) main thread'] = cores(workerMainMs);
  return {
    wallSeconds: Math.round(wallMs) / 1000,
    stack,
    stackTotal: cores(groupMs),
    bench: cores(selfMs),
    other: cores(Math.max(0, busyMs - groupMs - selfMs)),
    idle: cores(idleMs),
  };
}
