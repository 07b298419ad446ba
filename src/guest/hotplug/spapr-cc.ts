import { FdtNode } from '../fw/fdt/fdt.js';
import type { GuestKernel } from '../kernel.js';
import { fail, ok, type Result } from '../util/result.js';
import { RTAS_BUSY, type DrcRtas } from './spapr-drc.js';

/**
 * ibm,configure-connector's return codes (LoPAPR section 13.5.3.5, table
 * 13-9; Linux arch/powerpc/platforms/pseries/dlpar.c): each call returns
 * one step of the new device-tree fragment.
 */
export const CC_COMPLETE = 0;
export const CC_NEXT_SIBLING = 1;
export const CC_NEXT_CHILD = 2;
export const CC_NEXT_PROPERTY = 3;
export const CC_PREV_PARENT = 4;
export const CC_MORE_MEMORY = 5;
export const CC_ERR_CFG_USE = -9003;
/** The work area (struct cc_workarea): word 0 the DRC index, 1 zero, 2 name offset, 3 property length, 4 property offset. */
export const CC_WORKAREA_SIZE = 4096;
const CC_NAME_OFFSET = 8;
const CC_PROP_LENGTH = 12;
const CC_PROP_OFFSET = 16;
/** A bound on steps and busy retries, so a machine that never says COMPLETE cannot hang the guest. */
const CC_MAX_STEPS = 100_000;

function cstr(b: Uint8Array, at: number): string | undefined {
  if (at < 0 || at >= b.length) return undefined;
  const end = b.indexOf(0, at);
  return end < 0 ? undefined : String.fromCharCode(...b.subarray(at, end));
}

/**
 * dlpar_configure_connector: calls ibm,configure-connector on a work area
 * holding the DRC index until COMPLETE, building the nodes it describes
 * (NEXT_CHILD opens a node below the current one, or the first node below
 * `parent`; NEXT_SIBLING a node beside it; NEXT_PROPERTY adds a property
 * to the current node; PREV_PARENT closes it). The work area is kept
 * between calls, as the kernel copies rtas_data_buf back and forth. The
 * new top-level nodes are returned, not attached. Any other status is an
 * error ("Unexpected Error (%d) returned from configure-connector"), and
 * what was built is dropped.
 */
export function dlparConfigureConnector(k: GuestKernel, rtas: DrcRtas, index: number, parent: FdtNode): Result<FdtNode[]> {
  const wa = k.mem.alloc(CC_WORKAREA_SIZE);
  if (wa === undefined) return fail('configure-connector: no memory for the work area');
  try {
    const buf = new Uint8Array(CC_WORKAREA_SIZE);
    const dv = new DataView(buf.buffer);
    dv.setUint32(0, index >>> 0, false);
    k.port.writeBytes(wa, buf);
    const top: FdtNode[] = [];
    let last: FdtNode | undefined;
    const newNode = (under: FdtNode): FdtNode | string => {
      const name = cstr(buf, dv.getUint32(CC_NAME_OFFSET, false));
      if (name === undefined || name.length === 0) return `node name at offset ${dv.getUint32(CC_NAME_OFFSET, false)} is not a string inside the work area`;
      return new FdtNode(name, under);
    };
    for (let step = 0; step < CC_MAX_STEPS; step++) {
      const rc = rtas.configureConnector(wa);
      k.port.readBytes(wa, buf);
      if (rc === RTAS_BUSY || (rc >= 9900 && rc <= 9905)) {
        // rtas_busy_delay: -2 at once, 990x after 10^x ms.
        if (rc !== RTAS_BUSY) k.clock.sleep(10 ** (rc - 9900) * 1_000_000);
        continue;
      }
      switch (rc) {
        case CC_COMPLETE:
          return ok(top);
        case CC_NEXT_SIBLING:
        case CC_NEXT_CHILD: {
          const under = rc === CC_NEXT_CHILD ? (last ?? parent) : last?.parent;
          if (!under) return fail('configure-connector: NEXT_SIBLING before any node');
          const n = newNode(under);
          if (typeof n === 'string') return fail(`configure-connector: ${n}`);
          if (under === parent) top.push(n);
          else under.children.push(n);
          last = n;
          break;
        }
        case CC_NEXT_PROPERTY: {
          if (!last) return fail('configure-connector: NEXT_PROPERTY outside a node');
          const name = cstr(buf, dv.getUint32(CC_NAME_OFFSET, false));
          const len = dv.getUint32(CC_PROP_LENGTH, false);
          const off = dv.getUint32(CC_PROP_OFFSET, false);
          if (name === undefined || off + len > CC_WORKAREA_SIZE) return fail(`configure-connector: property at offset ${off} (${len} bytes) does not fit the work area`);
          last.props.set(name, buf.slice(off, off + len));
          break;
        }
        case CC_PREV_PARENT:
          if (!last) return fail('configure-connector: PREV_PARENT outside a node');
          last = last.parent === parent ? undefined : last.parent;
          break;
        default:
          k.log.err('dlpar', `Unexpected Error (${rc}) returned from configure-connector`);
          return fail(`configure-connector returned ${rc}${rc === CC_ERR_CFG_USE ? ' (the connector is not usable: not unisolated)' : rc === CC_MORE_MEMORY ? ' (more memory)' : ''}`);
      }
    }
    return fail(`configure-connector did not complete in ${CC_MAX_STEPS} steps`);
  } finally {
    k.mem.freePages(wa, CC_WORKAREA_SIZE);
  }
}
