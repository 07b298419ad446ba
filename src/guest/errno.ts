/**
 * Linux error numbers (include/uapi/asm-generic/errno-base.h, errno.h and
 * include/linux/errno.h for EPROBE_DEFER) as the guest kernel's operations
 * return them: 0 for success, a negative errno for failure.
 */
export const EPERM = 1;
export const ENOENT = 2;
export const EIO = 5;
export const ENXIO = 6;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOTTY = 25;
export const ENOSPC = 28;
export const ERANGE = 34;
export const ENOSYS = 38;
export const EOPNOTSUPP = 95;
export const ETIMEDOUT = 110;
/** Driver requests probe retry (include/linux/errno.h). */
export const EPROBE_DEFER = 517;

const NAMES: Record<number, string> = {
  [EPERM]: 'EPERM', [ENOENT]: 'ENOENT', [EIO]: 'EIO', [ENXIO]: 'ENXIO', [ENOMEM]: 'ENOMEM', [EFAULT]: 'EFAULT', [ENOTTY]: 'ENOTTY', [EBUSY]: 'EBUSY',
  [EEXIST]: 'EEXIST',
  [ENODEV]: 'ENODEV', [EINVAL]: 'EINVAL', [ENOSPC]: 'ENOSPC', [ERANGE]: 'ERANGE', [ENOSYS]: 'ENOSYS',
  [EOPNOTSUPP]: 'EOPNOTSUPP', [ETIMEDOUT]: 'ETIMEDOUT', [EPROBE_DEFER]: 'EPROBE_DEFER',
};

/** "-22 (EINVAL)". */
export function errnoName(ret: number): string {
  const n = NAMES[-ret] ?? NAMES[ret];
  return n ? `${ret} (${n})` : String(ret);
}
