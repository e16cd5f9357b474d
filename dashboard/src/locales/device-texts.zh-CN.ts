import type { FaultCode, IngestErrorCode } from '../../../contract/index.js';

/**
 * Why a device's message was refused, and its fault codes, in Chinese. Kept apart from zh-CN.ts
 * (which spreads it in) to keep each file to one screenful of concerns.
 * AUTH_FAILED: failed MQTT logins counted per device id (the hub adds it to the same list).
 */
type IngestCode = IngestErrorCode | 'AUTH_FAILED';

export const deviceTextsZh = {
  ingestError: {
    TOPIC_NOT_ALLOWED: '主题不允许',
    SUBSCRIBE_NOT_ALLOWED: '订阅不允许',
    PAYLOAD_TOO_LARGE: '消息过大',
    PACKET_TOO_LARGE: 'MQTT 报文过大',
    RATE_LIMITED: '发送过于频繁',
    PAYLOAD_NOT_JSON: '不是 JSON',
    PAYLOAD_INVALID: '内容不符合约定',
    STORE_FAILED: '存储失败',
    AUTH_FAILED: '密钥错误',
  } satisfies Record<IngestCode, string>,
  ingestDetail: {
    TOPIC_NOT_ALLOWED: '设备向不属于它的主题发送了消息，请检查设备的主题前缀。',
    SUBSCRIBE_NOT_ALLOWED: '设备订阅了不属于它的主题，请检查设备的主题前缀。',
    PAYLOAD_TOO_LARGE: '消息超过了大小限制，请减少每条消息中的读数。',
    PACKET_TOO_LARGE: 'MQTT 报文超过了大小限制，连接已被断开。',
    RATE_LIMITED: '设备发送过于频繁，多出的消息被丢弃。',
    PAYLOAD_NOT_JSON: '消息不是有效的 JSON，请检查设备程序。',
    PAYLOAD_INVALID: '消息内容不符合设备约定：',
    STORE_FAILED: '集线器暂时无法保存数据，设备会重发，无需处理。',
    AUTH_FAILED: '设备用错误的密钥登录被拒绝。请把最新密钥写入设备，或重新生成密钥。',
    unknown: '消息被拒绝（{code}）。',
  } satisfies Record<IngestCode | 'unknown', string>,
  ingestField: {
    readings: '第 {n} 条读数',
    events: '第 {n} 条事件',
    root: '整条消息',
    seq: '序号',
    ts: '时间戳',
    values: '读数值',
    type: '事件类型',
    code: '代码',
    item: '物品',
    online: '在线状态',
    fw: '固件',
    rssi: '信号强度',
  },
  ingestReason: {
    missing: '缺少此项',
    int: '必须是整数',
    type: '类型应为{expected}，实际是{received}',
    min: '不能小于 {n}（须 {op} {n}）',
    max: '不能大于 {n}（须 {op} {n}）',
    minItems: '至少需要 {n} 项',
    maxItems: '最多 {n} 项',
    unknownKey: '有约定之外的字段：{keys}',
    option: '不是允许的值，应为 {options} 之一',
    future: '设备时钟超前 {n} 秒，请校准设备时间',
    old: '数据已是 {n} 天前的，请检查设备时钟',
    other: '其他问题：{text}',
  },
  ingestType: {
    number: '数字',
    int: '整数',
    boolean: '布尔值（true/false）',
    string: '文字',
    object: '对象',
    array: '数组',
    null: '空值（null）',
  },
  fault: {
    E_LENS_BLOCKED: '镜头被遮挡',
    E_SENSOR: '传感器故障',
    E_MAGNET: '门磁脱落或失灵',
    E_LOW_BATTERY: '电池电量低',
    E_HEATER: '加热故障',
    E_LEAK: '漏水',
    E_MAGNETRON: '磁控管故障',
    E_DOOR_SWITCH: '门开关故障',
    E_COMPRESSOR: '压缩机故障',
    E_FILTER: '滤网需清洗',
    E_LOCK_JAM: '柜锁卡住',
    E_RFID: '取物识别（RFID）故障',
  } satisfies Record<FaultCode, string>,
};
