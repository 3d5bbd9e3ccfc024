import { describe, expect, it } from 'vitest';
import { kafkaAcls, serviceNames, type AclRule } from './access.js';
import { dlqTopicOf, eventTopics, topics } from './catalog.js';

const rulesOf = (rules: AclRule[], principal: string) => rules.filter((rule) => rule.principal === `User:${principal}`);
const names = (rules: AclRule[], resourceType: AclRule['resourceType'], operation: AclRule['operation']) =>
  rules
    .filter((rule) => rule.resourceType === resourceType && rule.operation === operation)
    .map((rule) => rule.resourceName)
    .sort();

describe('Kafka ACLs from the event catalogue', () => {
  const rules = kafkaAcls();

  it('lets a service write only the topics of the events it publishes and its own dead-letter topic', () => {
    expect(names(rulesOf(rules, 'user-service'), 'TOPIC', 'WRITE')).toEqual([eventTopics.UserCreated]);
    expect(names(rulesOf(rules, 'order-service'), 'TOPIC', 'WRITE')).toEqual([dlqTopicOf('order-service'), topics.orderEvents].sort());
    expect(names(rulesOf(rules, 'billing-service'), 'TOPIC', 'WRITE')).toEqual([dlqTopicOf('billing-service'), topics.paymentEvents].sort());
    // Notification publishes nothing: the forged OrderPlaced / PaymentSucceeded must be refused.
    expect(names(rulesOf(rules, 'notification-service'), 'TOPIC', 'WRITE')).toEqual([dlqTopicOf('notification-service')]);
  });

  it('lets a service read only what it consumes, in its own group', () => {
    expect(names(rulesOf(rules, 'billing-service'), 'TOPIC', 'READ')).toEqual([topics.orderEvents, topics.userEvents].sort());
    expect(names(rulesOf(rules, 'order-service'), 'TOPIC', 'READ')).toEqual([topics.paymentEvents]);
    expect(names(rulesOf(rules, 'user-service'), 'TOPIC', 'READ')).toEqual([]);
    for (const service of ['billing-service', 'order-service', 'notification-service']) {
      expect(names(rulesOf(rules, service), 'GROUP', 'READ')).toEqual([service]);
    }
    // Order-service's admission control reads the other groups' offsets: describe, never join.
    expect(names(rulesOf(rules, 'order-service'), 'GROUP', 'DESCRIBE')).toEqual(['billing-service', 'notification-service']);
  });

  it('gives no service or tool the right to create, alter or delete topics, and no wildcard', () => {
    const powerful = rules.filter((rule) => ['ALL', 'CREATE', 'ALTER', 'DELETE', 'ALTER_CONFIGS'].includes(rule.operation) || rule.resourceType === 'CLUSTER');
    expect(powerful.every((rule) => rule.principal === 'User:test' && rule.patternType === 'PREFIXED' && rule.resourceName === 'test.')).toBe(true);
    expect(rules.some((rule) => rule.resourceName === '*' || rule.resourceName === '')).toBe(false);
    for (const service of serviceNames) expect(rulesOf(rules, service).every((rule) => rule.patternType === 'LITERAL')).toBe(true);
  });

  it('repeats the services’ rules under every namespace the system runs in', () => {
    const local = kafkaAcls({ namespaces: ['', 'test.'] });
    expect(names(rulesOf(local, 'notification-service'), 'TOPIC', 'WRITE')).toEqual([dlqTopicOf('notification-service'), `test.${dlqTopicOf('notification-service')}`]);
    expect(names(rulesOf(local, 'order-service'), 'GROUP', 'READ')).toEqual(['order-service', 'test.order-service']);
  });
});
