/**
 * The broker's ACLs are the catalogue's: provisioning (as the provision principal) makes them
 * equal, removes what the catalogue no longer grants, and is a no-op when nothing changed.
 */
import { randomUUID } from 'node:crypto';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaSettingsOf } from '@eventflow/testing';
import { kafkaAcls, kafkaConnection, managedAclPrincipals, provisionAcls, toKafkaAcl } from '../src/index.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const admin = new Kafka({ clientId: 'acl-test', ...kafkaConnection(kafkaSettingsOf('provision')), logLevel: logLevel.NOTHING }).admin();
// What the local stack provisions: the release's names and the test namespace.
const wanted = kafkaAcls({ namespaces: ['', 'test.'] });

beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

async function brokerAcls(): Promise<string[]> {
  const keys: string[] = [];
  for (const principal of managedAclPrincipals()) {
    const { resources } = await admin.describeAcls({
      principal,
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    for (const resource of resources) {
      for (const acl of resource.acls) keys.push([acl.principal, resource.resourceType, resource.resourcePatternType, resource.resourceName, acl.operation, acl.permissionType, acl.host].join('|'));
    }
  }
  return keys.sort();
}

const keysOf = (rules: typeof wanted) =>
  rules
    .map(toKafkaAcl)
    .map((acl) => [acl.principal, acl.resourceType, acl.resourcePatternType, acl.resourceName, acl.operation, acl.permissionType, acl.host].join('|'))
    .sort();

describe('Kafka ACLs on the real broker', () => {
  it('are exactly the catalogue’s after provisioning, and a second run changes nothing', async () => {
    await provisionAcls(admin, wanted);
    expect(await brokerAcls()).toEqual(keysOf(wanted));
    expect(await provisionAcls(admin, wanted)).toEqual({ created: 0, deleted: 0, unchanged: wanted.length });
  });

  it('removes a grant the catalogue does not make', async () => {
    const stray = { principal: 'User:notification-service', resourceType: 'GROUP' as const, patternType: 'LITERAL' as const, resourceName: `test.stray-${randomUUID()}`, operation: 'READ' as const };
    await admin.createAcls({ acl: [toKafkaAcl(stray)] });
    expect(await brokerAcls()).toContain(keysOf([stray])[0]);
    expect(await provisionAcls(admin, wanted)).toMatchObject({ created: 0, deleted: 1 });
    expect(await brokerAcls()).toEqual(keysOf(wanted));
  });
});
