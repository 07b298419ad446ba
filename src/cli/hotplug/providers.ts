import { GuestActions, type GuestAction } from './actions.js';
import { BUILTIN_ACTIONS, PENDING_ACTIONS } from './guest-actions.js';
import { bindVfio, unbindVfio } from './vfio-actions.js';
import { trafficAction } from './traffic-action.js';

/**
 * Guest actions other parts of viommu contribute. A provider is a
 * GuestAction whose name replaces a placeholder: issue 11 appends its
 * `traffic`, `bind-vfio` and `unbind-vfio` actions to this list (keeping
 * the parameter names of the placeholders in guest-actions.ts, or adding
 * to them), and every script can use them.
 */
export const GUEST_ACTION_PROVIDERS: readonly GuestAction[] = [trafficAction, bindVfio, unbindVfio];

/** The actions a run knows: built-in ones, placeholders, providers, then `extra` (programmatic registration). */
export function defaultGuestActions(extra: readonly GuestAction[] = []): GuestActions {
  return new GuestActions([...BUILTIN_ACTIONS, ...PENDING_ACTIONS, ...GUEST_ACTION_PROVIDERS, ...extra]);
}
