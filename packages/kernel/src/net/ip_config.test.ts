// `ip=` in Linux's syntax: the one-word forms, static configurations (classful default mask,
// gateway, hostname, device, DNS), DHCP with fields, the device selecting a NIC, and bad
// values refused with EINVAL naming the field.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import '@kiln/common/testing/property.ts';
import { ip } from '../testing/net_frames.ts';
import { ipConfigFor, parseIpParam } from './ip_config.ts';
import { NetError } from './types.ts';

test('ip_param_words', () => {
  for (const w of ['dhcp', 'on', 'any', 'DHCP']) assert.deepEqual(parseIpParam(w), { config: { method: 'dhcp', hostname: '' }, device: undefined });
  for (const w of ['off', 'none']) assert.deepEqual(parseIpParam(w), { config: { method: 'off' }, device: undefined });
});

test('ip_param_static_golden', () => {
  assert.deepEqual(parseIpParam('10.0.2.15::10.0.2.2:255.255.255.0::eth0:off'), {
    config: { method: 'static', address: ip('10.0.2.15'), netmask: 0xffffff00, gateway: ip('10.0.2.2'), hostname: '', dns: [] },
    device: 'eth0',
  });
  assert.deepEqual(parseIpParam('192.168.7.2:192.168.7.1:192.168.7.1:255.255.255.252:kiln-1:eth0:none:1.1.1.1:8.8.8.8:9.9.9.9').config, {
    method: 'static', address: ip('192.168.7.2'), netmask: 0xfffffffc, gateway: ip('192.168.7.1'), hostname: 'kiln-1', dns: [ip('1.1.1.1'), ip('8.8.8.8')],
  });
  // empty netmask: the class default; autoconf left empty with an address: static
  assert.equal((parseIpParam('10.1.2.3:::').config as { netmask: number }).netmask, 0xff000000);
  assert.equal((parseIpParam('172.16.0.5::::').config as { netmask: number }).netmask, 0xffff0000);
  assert.equal((parseIpParam('192.168.1.9:').config as { netmask: number }).netmask, 0xffffff00);
  assert.equal(parseIpParam('10.0.2.15::::::any').config.method, 'static');
});

test('ip_param_dhcp_with_fields', () => {
  assert.deepEqual(parseIpParam(':::::eth0:dhcp'), { config: { method: 'dhcp', hostname: '' }, device: 'eth0' });
  assert.deepEqual(parseIpParam('::::myhost::'), { config: { method: 'dhcp', hostname: 'myhost' }, device: undefined });
  assert.equal(parseIpParam('10.0.2.15::::::dhcp').config.method, 'dhcp');
  assert.equal(parseIpParam(':::::eth1:off').config.method, 'off');
});

test('ip_param_bad_values_name_the_field', () => {
  const cases: [string, RegExp][] = [
    ['bootp', /bootp is not supported/],
    ['10.0.2.15', /expected dhcp, off, or <client-ip>/],
    ['10.0.2.256::::::off', /client-ip "10.0.2.256" is not a dotted IPv4 address/],
    ['10.0.2.15::gw:::', /gw-ip "gw" is not a dotted/],
    ['10.0.2.15:::255.0.255.0::', /netmask 255.0.255.0 is not contiguous/],
    ['10.0.2.15:::255.255.255.0::wlan0:', /device "wlan0" is not eth<N>/],
    ['10.0.2.15::::bad_host::', /hostname "bad_host"/],
    ['10.0.2.15::::::rarp', /autoconf rarp is not supported/],
    ['10.0.2.15::::::maybe', /autoconf "maybe" is not one of/],
    ['10.0.2.0:::255.255.255.0:::off', /network or broadcast address/],
    ['10.0.2.255:::255.255.255.0:::off', /network or broadcast address/],
    ['127.0.0.1:::::', /cannot be a host address/],
    ['10.0.2.15::10.0.3.1:255.255.255.0:::', /gw-ip 10.0.3.1 is not on the client's network/],
    ['10.0.2.15:::::::1.2.3:', /dns0-ip "1.2.3"/],
    ['1:2:3:4:5:6:7:8:9:10:11', /too many fields/],
  ];
  for (const [value, why] of cases) {
    assert.throws(() => parseIpParam(value), (e: unknown) => e instanceof NetError && e.code === 'EINVAL' && why.test(e.message) && e.message.includes(`ip=${value}`), value);
  }
});

test('ip_config_for_a_nic', () => {
  assert.deepEqual(ipConfigFor({}, 0), { method: 'dhcp', hostname: '' });
  assert.equal(ipConfigFor({ ip: '10.0.2.15::10.0.2.2:255.255.255.0::eth0:off' }, 0).method, 'static');
  assert.equal(ipConfigFor({ ip: '10.0.2.15::10.0.2.2:255.255.255.0::eth0:off' }, 1).method, 'off');
  assert.equal(ipConfigFor({ ip: '10.0.2.15::10.0.2.2:255.255.255.0:::off' }, 1).method, 'static');
  assert.throws(() => ipConfigFor({ ip: 'nonsense' }, 0), NetError);
});

test('ip_param_any_text_gives_a_config_or_einval', () => {
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('1', '0', '.', ':', 'e', 't', 'h', 'f', 'o', 'd', 'c', 'p', '2', '5') }), (s) => {
    try {
      parseIpParam(s);
    } catch (e) {
      assert.ok(e instanceof NetError && e.code === 'EINVAL', String(e));
    }
  }));
});
