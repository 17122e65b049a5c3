# SPDX-License-Identifier: MIT
# private-apt.sh - sourced by fetch-kernel.sh and fetch-qemu.sh: an apt
# configuration of their own in DIR that names only SUITE (its own
# sources.list, lists, cache and an empty dpkg status; /etc/apt is only read
# for its apt.conf.d), so that another suite's packages can be downloaded
# without touching the system's sources or its dpkg lock.
#
#   private_apt DIR SUITE    sets apt_opts, the options for apt-get and
#                            apt-cache, and updates the lists
private_apt() {
	local A=$1 suite=$2
	mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/sources.list.d"
	: > "$A/status"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
		"http://deb.debian.org/debian $suite main" > "$A/sources.list"
	apt_opts=(-o "Dir::Etc::SourceList=$A/sources.list" -o "Dir::Etc::SourceParts=$A/sources.list.d"
		-o "Dir::State=$A" -o "Dir::State::Lists=$A/lists" -o "Dir::State::status=$A/status"
		-o "Dir::Cache=$A/cache" -o "Debug::NoLocking=1")
	apt-get "${apt_opts[@]}" -q update >/dev/null
}
