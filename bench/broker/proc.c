#include "proc.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

long proc_rss_kib(int pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            if (sscanf(line + 6, "%ld", &kib) != 1)
                kib = -1;
            break;
        }
    }
    fclose(f);
    return kib;
}

int proc_cpu_split(int pid, double *user, double *sys)
{
    char path[64], buf[1024];
    unsigned long utime, stime;
    const char *p;
    size_t n;
    long tck = sysconf(_SC_CLK_TCK);
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* field 2 (comm) may hold spaces and parentheses: resume after the last ')' */
    p = strrchr(buf, ')');
    if (!p || tck <= 0)
        return -1;
    /* fields 3..13 come before utime (14) and stime (15) */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    *user = (double)utime / (double)tck;
    *sys = (double)stime / (double)tck;
    return 0;
}

double proc_cpu_seconds(int pid)
{
    double user, sys;

    return proc_cpu_split(pid, &user, &sys) == 0 ? user + sys : -1;
}

int proc_cpu_ticks(int cpu, unsigned long long *busy, unsigned long long *total)
{
    char want[32], line[512];
    unsigned long long v[8] = {0};
    int rc = -1, n;
    FILE *f = fopen("/proc/stat", "r");

    if (!f)
        return -1;
    snprintf(want, sizeof(want), "cpu%d ", cpu);
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, want, strlen(want)) != 0)
            continue;
        /* user nice system idle iowait irq softirq steal */
        n = sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
        if (n >= 4) {
            *total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
            *busy = *total - v[3] - v[4];
            rc = 0;
        }
        break;
    }
    fclose(f);
    return rc;
}
