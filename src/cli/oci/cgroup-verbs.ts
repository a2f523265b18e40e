// pause, resume, update, events: they act on the container's cgroups.
import { BerthError } from '../../runtime/errors.js';
import type { Context } from './context.js';

export async function needsCgroups(_ctx: Context, _argv: string[], verb = 'this verb'): Promise<number> {
  throw new BerthError(`${verb} is not supported yet: berth has no cgroup driver in this build`, { code: 'ENOTSUP', step: verb });
}
