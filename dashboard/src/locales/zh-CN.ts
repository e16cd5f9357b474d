import type { DeviceKind } from '../../../devices/contract/kinds.js';
import type { Site, SiteHealth } from '../../../services/api/schemas.js';

/** Simplified Chinese: the default language. Its shape is the schema every other locale must match. */
const zhCN = {
  app: {
    name: '驿站 Hub',
    title: '驿站 Hub · 站点概览',
    loading: '加载中…',
  },
  lang: {
    label: '语言',
    // Language names are shown in their own language, whatever the current locale.
    zh: '中文',
    en: 'English',
  },
  login: {
    heading: '登录',
    intro: '核酸小屋便民驿站管理',
    username: '用户名',
    password: '密码',
    submit: '登录',
    submitting: '正在登录…',
  },
  error: {
    BAD_CREDENTIALS: '用户名或密码不正确',
    UNAUTHENTICATED: '登录已失效，请重新登录',
    FORBIDDEN: '没有权限执行此操作',
    INTERNAL: '服务器内部错误，请稍后再试',
    VALIDATION: '请检查填写的内容',
    NETWORK: '无法连接服务器，请检查网络后重试',
    generic: '出现错误（{code}），请稍后再试',
  },
  overview: {
    heading: '站点概览',
    logout: '退出登录',
    signedInAs: '当前用户：{name}',
    counts: '站点状态统计',
    empty: '暂无可查看的站点',
    waiting: '正在获取站点数据…',
    connection: {
      connected: '实时连接正常',
      connecting: '正在连接…',
      disconnected: '连接已断开，正在重连…',
    },
  },
  health: {
    ok: '正常',
    attention: '需关注',
    offline: '离线',
    stale: '数据过期',
  } satisfies Record<SiteHealth, string>,
  siteType: {
    health: '健康驿站',
    caring: '爱心驿站',
    both: '健康·爱心驿站',
  } satisfies Record<Site['type'], string>,
  tile: {
    open: '开放中',
    closed: '已闭站',
    allDay: '24 小时开放',
    hours: '开放时间 {open}–{close}',
    occupancy: '在站人数',
    seats: '/ {n} 座',
    full: '已满',
    door: '门',
    doorOpen: '开着',
    doorClosed: '关着',
    unknown: '—',
    devices: '设备在线',
    issues: '设备与告警',
    noIssues: '一切正常',
    updated: '最后更新：{time}',
    never: '从未收到数据',
    staleBadge: '数据过期',
    justNow: '刚刚',
    fault: '{device}故障：{detail}',
    offlineDevices: '离线：{list}',
  },
  issue: {
    door_open_long: '门长时间未关',
    door_open_closed_hours: '闭站时间门开着',
    water_low: '饮水机水量不足',
    device_fault: '有设备故障',
    devices_offline: '有设备离线',
    cabinet_empty: '雨具借还柜已空',
  },
  kind: {
    occupancy_counter: '人数计数器',
    door_sensor: '门磁',
    water_dispenser: '饮水机',
    microwave: '微波炉',
    air_conditioner: '空调',
    lending_cabinet: '雨具借还柜',
    environment_sensor: '温湿度传感器',
  } satisfies Record<DeviceKind, string>,
};

export type MessageSchema = typeof zhCN;
export default zhCN;
