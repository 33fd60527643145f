/* Figures about a process read from Linux /proc (proc(5)). */
#ifndef MQLOAD_PROC_H
#define MQLOAD_PROC_H

/* VmRSS of pid in KiB from /proc/<pid>/status, or -1. */
long proc_rss_kib(int pid);
/* User plus system CPU time of pid in seconds from /proc/<pid>/stat, or -1. */
double proc_cpu_seconds(int pid);
/* The same as its two parts (user, system). Returns 0, or -1 when pid cannot be read. */
int proc_cpu_split(int pid, double *user, double *sys);

/*
 * Busy and total time of one CPU, in clock ticks since boot, from the "cpuN" line of /proc/stat.
 * Busy is everything but idle and iowait. Returns 0, or -1 when there is no such CPU.
 */
int proc_cpu_ticks(int cpu, unsigned long long *busy, unsigned long long *total);

#endif
