// Statistics with ECharts: cases per category per day, and on-time rates per grid and per
// department, over the cases in the caller's scope.
import { useEffect, useRef } from 'preact/hooks';
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, LegendComponent, TitleComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import { listCases } from '../lib/cases.js';
import { perCategoryPerDay, onTimeRates } from '../lib/stats.js';
import { nameOf, i18n } from '../lib/i18n.js';
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
  const d = useAsync(() => listCases({ limit: 1000 }), []);
  const lang = i18n.language;
  if (d.loading) return <Loading />;
  if (d.error) return <section class="page"><h1>{t('nav.stats')}</h1><ErrorBox error={d.error} onRetry={d.reload} /></section>;
  const cases = d.data.cases;
  if (!cases.length) return <section class="page"><h1>{t('nav.stats')}</h1><Empty text={t('stats.empty')} /></section>;
  const names = Object.fromEntries(cases.map((c) => [c.category, nameOf(c.category_name) || c.category]));
  const pcd = perCategoryPerDay(cases, lang);
  const byGrid = onTimeRates(cases, (c) => c.grid).slice(0, 30);
  const byDept = onTimeRates(cases, (c) => c.assignee && c.assignee.kind === 'department' && c.assignee.label);
  const rateOption = (rows, title) => ({
    title: { text: title, textStyle: { fontSize: 14 } },
    tooltip: { trigger: 'axis', valueFormatter: (v) => v + '%' },
    grid: { left: 60, right: 20, bottom: 70, top: 40 },
    xAxis: { type: 'category', data: rows.map((r) => r.key), axisLabel: { rotate: 40 } },
    yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    series: [{ type: 'bar', name: t('stats.onTime'), data: rows.map((r) => Math.round(r.rate * 1000) / 10), itemStyle: { color: '#3a9a5b' } }],
  });
  return (
    <section class="page">
      <h1>{t('nav.stats')}</h1>
      <p class="hint">{t('stats.basis', { count: cases.length })}</p>
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
            series: pcd.series.map((s) => ({ type: 'bar', stack: 'all', name: names[s.category], data: s.counts })),
          }}
        />
        {byGrid.length ? <Chart label={t('stats.perGrid')} option={rateOption(byGrid, t('stats.perGrid'))} /> : <Empty text={t('stats.noClosed')} />}
        {byDept.length ? <Chart label={t('stats.perDept')} option={rateOption(byDept, t('stats.perDept'))} /> : <Empty text={t('stats.noDept')} />}
      </div>
    </section>
  );
}
