# SPDX-License-Identifier: MIT
# bash completion for atomicwrite(1)
_atomicwrite()
{
	local cur prev words cword
	_init_completion -s || return

	local commands="edit batch sweep publish rollback symlink exchange run"
	local cmd="" i
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		edit|batch|sweep|publish|rollback|symlink|exchange|run)
			[[ $i == 1 ]] && cmd=${words[i]}
			break ;;
		esac
	done

	# FILE -- COMMAND [ARG]...: after the "--" that follows FILE, complete
	# COMMAND and its arguments as the command's own completion does.
	if [[ -z $cmd ]]; then
		for ((i = 2; i < cword; i++)); do
			if [[ ${words[i]} == -- && ${words[i-1]} != -* ]]; then
				case ${words[i-2]} in
				-m|--mode|-c|--check|--from|--from-cmd|--durability) continue ;;
				esac
				_command_offset $((i + 1))
				return
			fi
		done
	fi

	# run [OPTION]... -- COMMAND [ARG]...: the command after "--".
	if [[ $cmd == run ]]; then
		for ((i = 2; i < cword; i++)); do
			if [[ ${words[i]} == -- ]]; then
				_command_offset $((i + 1))
				return
			fi
		done
	fi

	case $prev in
	--durability)
		COMPREPLY=($(compgen -W "full file none" -- "$cur"))
		return ;;
	--flush)
		COMPREPLY=($(compgen -W "auto sequential parallel syncfs" -- "$cur"))
		return ;;
	-m|--mode|-k|--keep|--wait)
		return ;;
	--from|--log)
		_filedir
		return ;;
	-c|--check|--from-cmd)
		compopt -o filenames
		COMPREPLY=($(compgen -c -- "$cur"))
		return ;;
	esac

	case $cmd in
	edit)
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W "--check --backup --follow-symlinks --wait --keep-inode --help" -- "$cur")) || _filedir
		;;
	sweep)
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W "--dry-run --help" -- "$cur")) || _filedir -d
		;;
	publish)
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W "--keep --adopt --durability --wait --help" -- "$cur")) || _filedir
		;;
	batch)
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W "--manifest --durability --flush --help" -- "$cur")) || _filedir
		;;
	rollback|symlink)
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W "--wait --help" -- "$cur")) || _filedir
		;;
	run)
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W "--only --except --durability --verbose --log --help" -- "$cur")) ||
			COMPREPLY=($(compgen -W "--" -- "$cur"))
		;;
	exchange)
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W "--help" -- "$cur")) || _filedir
		;;
	*)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--mode --durability --no-sync --no-clobber
				--follow-symlinks --lock --wait --from --from-cmd --check --backup
				--progress --verbose --no-tmpfile --keep-inode --if-unchanged
				--help --version" -- "$cur"))
		elif [[ $cword == 1 ]]; then
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
			_filedir
		else
			_filedir
		fi
		;;
	esac
} && complete -F _atomicwrite atomicwrite
