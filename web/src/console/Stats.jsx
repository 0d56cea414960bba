// Statistics with ECharts from GET /api/v1/stats/cases: cases per day for the busiest categories,
// on-time closing rates per community and per department, and the counts per category as a table
// (also what a screen reader reads), over a chosen period within the caller's scope.
import { useEffect, useRef, useState } from 'preact/hooks';
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, LegendComponent, TitleComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import { caseStats, categories } from '../lib/cases.js';
import { perCategoryPerDay, onTimeRates, topCategories } from '../lib/stats.js';
import { formatDay } from '../lib/time.js';
import { loadCategories } from '../lib/taxonomy.js';
import { nameOf } from '../lib/i18n.js';
import { ErrorBox, Loading, Empty, useAsync, useT } from '../lib/ui.jsx';

echarts.use([BarChart, LineChart, GridComponent, TooltipComponent, LegendComponent, TitleComponent, SVGRenderer]);
const FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", sans-serif';

function Chart({ option, label }) {
  const el = useRef(null);
  useEffect(() => {
    const c = echarts.init(el.current, null, { renderer: 'svg' });
    c.setOption({ textStyle: { fontFamily: FONT }, ...option });
    const f = () => c.resize();
    addEventListener('resize', f);
    return () => {
      removeEventListener('resize', f);
      c.dispose();
    };
  }, [JSON.stringify(option)]);
  return <div class="chart" ref={el} role="img" aria-label={label} />;
}

export function Stats() {
  const t = useT();
  const [days, setDays] = useState(30);
  const d = useAsync(async () => {
    const since = formatDay(Date.now() / 1000 - days * 86400);
    const [cats, byCategory, byGrid, byDept] = await Promise.all([
      loadCategories(categories),
      caseStats({ group: 'category', since }),
      caseStats({ group: 'grid', level: 'community', since }),
      caseStats({ group: 'department', since }),
    ]);
    const top = topCategories(byCategory.rows);
    const perDay = {};
    await Promise.all(top.map(async (c) => (perDay[c] = (await caseStats({ group: 'day', category: c, since })).rows)));
    return { cats, byCategory, byGrid, byDept, perDay, since };
  }, [days]);
  const head = (
    <div class="page-head">
      <h1>{t('nav.stats')}</h1>
      <label>
        {t('stats.period')}{' '}
        <select value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>
          {[7, 30, 90, 365].map((n) => (
            <option key={n} value={n}>{t('stats.days', { count: n })}</option>
          ))}
        </select>
      </label>
    </div>
  );
  if (d.loading) return <section class="page">{head}<Loading /></section>;
  if (d.error) return <section class="page">{head}<ErrorBox error={d.error} onRetry={d.reload} /></section>;
  const { cats, byCategory, byGrid, byDept, perDay, since } = d.data;
  const total = byCategory.rows.reduce((s, r) => s + r.reported, 0);
  if (!total) return <section class="page">{head}<Empty text={t('stats.empty')} /></section>;
  const names = Object.fromEntries(cats.map((c) => [c.code, nameOf(c)]));
  const pcd = perCategoryPerDay(perDay);
  const gridRates = onTimeRates(byGrid.rows).slice(0, 30);
  const deptRates = onTimeRates(byDept.rows);
  const rateOption = (rows, title) => ({
    title: { text: title, textStyle: { fontSize: 14 } },
    tooltip: { trigger: 'axis', valueFormatter: (v) => v + '%' },
    grid: { left: 60, right: 20, bottom: 80, top: 40 },
    xAxis: { type: 'category', data: rows.map((r) => r.key), axisLabel: { rotate: 35 } },
    yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    series: [{ type: 'bar', name: t('stats.onTime'), data: rows.map((r) => r.rate), itemStyle: { color: '#3a9a5b' } }],
  });
  return (
    <section class="page">
      {head}
      <p class="hint">{t('stats.basis', { count: total, since })}</p>
      <div class="charts">
        <Chart
          label={t('stats.perDay')}
          option={{
            title: { text: t('stats.perDay'), textStyle: { fontSize: 14 } },
            tooltip: { trigger: 'axis' },
            legend: { type: 'scroll', bottom: 0 },
            grid: { left: 50, right: 20, bottom: 60, top: 40 },
            xAxis: { type: 'category', data: pcd.days },
            yAxis: { type: 'value', minInterval: 1 },
            series: pcd.series.map((s) => ({ type: 'bar', stack: 'all', name: names[s.category] || s.category, data: s.counts })),
          }}
        />
        {gridRates.length ? <Chart label={t('stats.perGrid')} option={rateOption(gridRates, t('stats.perGrid'))} /> : <Empty text={t('stats.noClosed')} />}
        {deptRates.length ? <Chart label={t('stats.perDept')} option={rateOption(deptRates, t('stats.perDept'))} /> : <Empty text={t('stats.noDept')} />}
      </div>
      <table class="data">
        <caption class="sr-only">{t('stats.table')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('cases.category')}</th>
            {['reported', 'registered', 'dispatched', 'closed', 'closed_on_time', 'overdue_open'].map((k) => (
              <th scope="col" key={k}>{t('stats.col.' + k)}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {byCategory.rows.map((r) => (
            <tr key={r.key}>
              <td>{names[r.key] || r.key}</td>
              {['reported', 'registered', 'dispatched', 'closed', 'closed_on_time', 'overdue_open'].map((k) => (
                <td key={k}>{r[k] ?? '—'}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
