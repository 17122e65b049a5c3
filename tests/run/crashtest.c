/* SPDX-License-Identifier: MIT */
/*
 * crashtest AW WRITER DIR N run|control: N times, replaces DIR/target
 * (1 MiB of one letter) with the writer (1 MiB of the next letter, in
 * 4 KiB writes, through open O_TRUNC), under `AW run` or bare, and
 * SIGKILLs its process group after a random delay within the writer's
 * measured lifetime.  After each kill the target must be whole: 1 MiB of
 * the old letter or of the new one.  Prints the counts; exits 0 if run
 * never tore the file, or if the bare control did (else the test is
 * blind), 1 otherwise.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SIZE (1 << 20)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The target's letter if it is whole, else 0. */
static int whole(const char *path)
{
	static char buf[SIZE + 1];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	if (n != SIZE)
		return 0;
	for (ssize_t i = 1; i < n; i++)
		if (buf[i] != buf[0])
			return 0;
	return buf[0];
}

static pid_t start(char **argv, const char *aw, const char *writer, const char *target,
                   int gen, int use_run)
{
	char g[16];
	snprintf(g, sizeof(g), "%d", gen);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		if (use_run)
			execl(aw, aw, "run", "--", writer, target, g, (char *)NULL);
		else
			execl(writer, writer, target, g, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	return pid;
}

int main(int argc, char **argv)
{
	if (argc != 6)
		return 2;
	const char *aw = argv[1], *writer = argv[2];
	int n = atoi(argv[4]), use_run = strcmp(argv[5], "run") == 0;
	char target[4096];
	snprintf(target, sizeof(target), "%s/target", argv[3]);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	/* a whole first version, and the writer's lifetime */
	int status, gen = 0;
	double life = 0;
	for (int i = 0; i < 3; i++) {
		double t = now();
		waitpid(start(argv, aw, writer, target, gen++, use_run), &status, 0);
		life += (now() - t) / 3;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !whole(target)) {
			fprintf(stderr, "crashtest: the writer does not work unkilled\n");
			return 2;
		}
	}
	int torn = 0, old = 0, new = 0, prev = whole(target);
	for (int i = 0; i < n; i++, gen++) {
		int letter = 'a' + gen % 26;
		pid_t pid = start(argv, aw, writer, target, gen, use_run);
		usleep((useconds_t)(life * 1.2e6 * rand() / RAND_MAX));
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		usleep(2000);   /* a grandchild (run's writer) is gone too */
		int w = whole(target);
		if (w == prev)
			old++;
		else if (w == letter)
			new++;
		else
			torn++;
		if (w)
			prev = w;
		else if (use_run)
			fprintf(stderr, "crashtest: torn after kill %d\n", i);
		if (!w) {
			/* the control goes on from a whole file */
			waitpid(start(argv, aw, writer, target, ++gen, 0), &status, 0);
			prev = whole(target);
		}
	}
	printf("%s: %d kills within %.1f ms lifetimes: %d old, %d new, %d torn\n",
	       use_run ? "under run" : "bare control", n, life * 1e3, old, new, torn);
	return use_run ? torn != 0 : torn == 0;
}
