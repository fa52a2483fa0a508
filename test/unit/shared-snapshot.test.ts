import { describe, expect, it } from 'vitest';
import { checkedSnapshotId, setTransactionSnapshot } from '../../src/db/shared-snapshot.js';
import { compileSql } from '../support/compile.js';

describe('the shared snapshot of scan --details', () => {
  it('imports the exported snapshot by its id, as a literal (SET TRANSACTION SNAPSHOT takes no parameter)', () => {
    expect(compileSql(setTransactionSnapshot('00000003-0000001B-1'))).toEqual({ sql: "set transaction snapshot '00000003-0000001B-1'", parameters: [] });
  });

  it('writes only an id shaped as pg_export_snapshot() returns it into a statement', () => {
    expect(checkedSnapshotId('0000000A-00000F2C-1')).toBe('0000000A-00000F2C-1');
    expect(checkedSnapshotId('00000003-0000001B')).toBe('00000003-0000001B');
    for (const bad of [undefined, '', "1-2'; drop table leads; --", '00000003-0000001B-1 ', 'x-y-1']) {
      expect(() => checkedSnapshotId(bad)).toThrow(/unexpected snapshot id/);
    }
  });
});
